// gzip streams in memory (a .csv.gz): inflated as data really arrives, never past a limit.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace kiln::rt::io {

// True when `bytes` start with gzip's magic (1f 8b).
bool is_gzip(std::span<const std::uint8_t> bytes) noexcept;

// The inflated content of a gzip file (several members are one stream, as for gzip -d). Throws
// kiln::file_error "<path>: <problem>" for a corrupt or truncated stream, bytes after it that
// are not another member, and content larger than `limit` bytes.
std::vector<std::uint8_t> gunzip(std::span<const std::uint8_t> bytes, const std::string& path,
                                 std::uint64_t limit);

}  // namespace kiln::rt::io
