// IDX files (LeCun's MNIST format), raw or gzip-compressed, validated.
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "kiln/runtime/data/dataset.hpp"

namespace kiln::rt {

// An IDX file of unsigned bytes (type code 0x08): dims and the data, row-major.
struct idx_u8 {
  std::vector<std::uint32_t> dims;
  std::vector<std::uint8_t> data;
};

// Reads `path` (gzip detected from the content, not the name). Throws kiln::file_error naming
// the file on: missing/unreadable file, bad magic, unsupported type code, zero or too many
// dimensions, a size product that overflows, truncated or trailing data, corrupt gzip, a
// decompressed size no gzip file of that length can hold, something else than a regular file.
idx_u8 read_idx(const std::filesystem::path& path);
// The same from the file's bytes; `path` names them in messages.
idx_u8 parse_idx(std::span<const std::uint8_t> bytes, const std::string& path);

// An images file plus a labels file -> a classification dataset (pixels / 255).
// Checks that the counts agree and that every label is below `classes`.
dataset read_idx_dataset(const std::filesystem::path& images, const std::filesystem::path& labels,
                         int classes);

}  // namespace kiln::rt
