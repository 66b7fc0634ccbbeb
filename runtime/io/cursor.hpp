// One byte cursor for every binary reader: a position in a file (read where it lies, with
// pread), in bytes in memory, or in a stream (a zip member, an inflating gzip), with the checks
// each reader needs -- bounds before anything is read or allocated, truncation, trailing data,
// counts that cannot overflow -- and one style for what they report:
//
//   <path>: the file is empty
//   <path>: truncated: <what> needs <n> bytes at byte <offset>, the file has <size>
//   <path>: trailing data: <n> bytes after <what>
//   <path>: <what> overflows
//
// A reader parses its header from the first bytes, checks every size the header declares
// against what is left, and only then allocates and reads the payload, once, into the buffer
// that keeps it (read_floats converts in small chunks as it reads).
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <string_view>

#include "kiln/runtime/io/tensor_file.hpp"

namespace kiln::rt::io {

class input_file;

// Bytes read front to back, whose end is found by reading.
class stream {
 public:
  virtual ~stream() = default;
  // Up to n bytes into dst, fewer only where the stream ends.
  virtual std::size_t read(std::uint8_t* dst, std::size_t n) = 0;
};

class cursor {
 public:
  static constexpr std::uint64_t unknown_size = std::numeric_limits<std::uint64_t>::max();

  // A file, read where its bytes lie (its size is fstat's).
  explicit cursor(const input_file& file);
  // Bytes in memory (kept alive by the caller); `path` names them in messages.
  cursor(std::span<const std::uint8_t> bytes, std::string path);
  // A stream of `size` bytes (what its container declares, or unknown_size); `noun` is what
  // messages call it ("the member", "the inflated data").
  cursor(stream& s, std::uint64_t size, std::string path, std::string noun);

  const std::string& path() const noexcept { return path_; }
  std::uint64_t size() const noexcept { return size_; }
  std::uint64_t offset() const noexcept { return at_; }
  std::uint64_t left() const noexcept { return size_ - at_; }
  bool at_end() const noexcept { return at_ == size_; }

  // Throws kiln::file_error "<path>: <problem>".
  [[noreturn]] void fail(const std::string& problem) const;
  // Throws "truncated: ..." (or "... is empty") unless `n` more bytes are there.
  void need(std::uint64_t n, std::string_view what) const;
  // Throws "trailing data: ..." unless the cursor is at the end.
  void expect_end(std::string_view what) const;

  // need(n) and the bytes.
  void read(void* dst, std::size_t n, std::string_view what);
  std::string text(std::size_t n, std::string_view what);
  template <class T>
  T le(std::string_view what) {  // little-endian unsigned integer
    std::uint8_t b[sizeof(T)];
    read(b, sizeof b, what);
    T v = 0;
    for (std::size_t i = sizeof(T); i-- > 0;) v = static_cast<T>(v << 8 | b[i]);
    return v;
  }
  template <class T>
  T be(std::string_view what) {  // big-endian unsigned integer
    std::uint8_t b[sizeof(T)];
    read(b, sizeof b, what);
    T v = 0;
    for (std::size_t i = 0; i < sizeof(T); ++i) v = static_cast<T>(v << 8 | b[i]);
    return v;
  }
  void skip(std::uint64_t n, std::string_view what);
  // Files and memory only: moves to `offset` (at most size()).
  void seek(std::uint64_t offset);
  bool seekable() const noexcept { return stream_ == nullptr; }

  // `count` elements of type `t` (little-endian) converted to float into dst, read in chunks:
  // the payload is read once, into the buffer that keeps it. Checks the size first.
  void read_floats(dtype t, std::size_t count, float* dst, std::string_view what);
  // Up to n bytes (fewer at the end); for readers that find the end by reading.
  std::size_t read_some(void* dst, std::size_t n);

  // "truncated: <what> needs <n> bytes at byte <at>, <noun> has <has>" ("... is empty" for
  // none), for readers that find the end by reading.
  [[noreturn]] void truncated(std::uint64_t at, std::uint64_t n, std::uint64_t has,
                              std::string_view what) const;
  const std::string& noun() const noexcept { return noun_; }

 private:
  std::size_t fetch(std::uint8_t* dst, std::size_t n);

  std::string path_;
  std::string noun_ = "the file";
  const input_file* file_ = nullptr;
  std::span<const std::uint8_t> bytes_;
  stream* stream_ = nullptr;
  std::uint64_t size_ = 0;
  std::uint64_t at_ = 0;
};

// "1 byte", "2 bytes".
std::string byte_count(std::uint64_t n);

// a * b, or "<what> overflows" through `c`.
std::uint64_t checked_mul(const cursor& c, std::uint64_t a, std::uint64_t b, std::string_view what);

}  // namespace kiln::rt::io
