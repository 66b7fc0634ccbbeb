// Byte-level helpers shared by the tensor-file readers and writers: whole-file reads with a size
// limit, little-endian loads, checked sizes, half-precision conversions and atomic writes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "kiln/runtime/io/tensor_file.hpp"

namespace kiln::rt::io {

// Deflate's best case is 1032:1 (258-byte matches of 2 bits each): a gzip or zip member claiming
// more than this times its compressed size is refused before anything is allocated for it.
inline constexpr std::uint64_t max_deflate_ratio = 1032;

// Reads the whole file (io::input_file: regular files only, checked before they are opened) in
// one read of the size fstat gives. Throws kiln::file_error for a missing or unreadable file,
// one that is not a regular file (a FIFO, a socket, a device, a directory), one larger than
// `limit`, one that changes size while read.
std::vector<std::uint8_t> read_file(const std::filesystem::path& path,
                                    std::uint64_t limit = std::uint64_t{1} << 34);

// Writes `content` so that `path` holds either its old content or all of the new one, whatever
// happens: a temporary file beside it, fsync, rename over `path`, fsync of the folder. A write
// that fails (no space left, a read-only folder) throws kiln::file_error naming `path`, removes
// the temporary file and leaves `path` as it was; a `path` that exists and is not a regular file
// (a device such as /dev/full, a FIFO, a directory) is refused before anything is written.
void write_file_atomically(const std::filesystem::path& path,
                           std::span<const std::uint8_t> content);

// The product of `shape`, or nullopt when it overflows (or times `scale` overflows).
std::optional<std::size_t> checked_count(std::span<const std::size_t> shape, std::size_t scale = 1);

template <class T>
T load_le(const std::uint8_t* p) noexcept {
  T v;
  std::memcpy(&v, p, sizeof v);  // x86-64 and every platform kiln targets are little-endian
  return v;
}

// Text taken from a file, made fit for a one-line message: control and non-ASCII bytes as \xNN,
// cut after `limit` characters with "...".
std::string printable(std::string_view text, std::size_t limit = 64);
// printable() in single quotes: 'text'.
std::string quoted(std::string_view text, std::size_t limit = 64);

float half_to_float(std::uint16_t h) noexcept;
std::uint16_t float_to_half(float f) noexcept;  // round to nearest even; overflow to infinity
float bfloat16_to_float(std::uint16_t b) noexcept;
std::uint16_t float_to_bfloat16(float f) noexcept;  // round to nearest even; NaN stays NaN

// Converts `count` little-endian elements of type `t` at `src` to float.
void to_float(dtype t, const std::uint8_t* src, std::size_t count, float* dst) noexcept;

}  // namespace kiln::rt::io
