#include "kiln/runtime/io/cursor.hpp"

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <utility>
#include <vector>

#include "kiln/runtime/error.hpp"
#include "kiln/runtime/io/bytes.hpp"
#include "kiln/runtime/io/file.hpp"

namespace kiln::rt::io {
namespace {

// What read_floats converts at a time: small next to any payload worth the name.
constexpr std::size_t chunk_bytes = std::size_t{1} << 16;

}  // namespace

cursor::cursor(const input_file& file) : path_(file.path()), file_(&file), size_(file.size()) {}

cursor::cursor(std::span<const std::uint8_t> bytes, std::string path)
    : path_(std::move(path)), bytes_(bytes), size_(bytes.size()) {}

cursor::cursor(stream& s, std::uint64_t size, std::string path, std::string noun)
    : path_(std::move(path)), noun_(std::move(noun)), stream_(&s), size_(size) {}

void cursor::fail(const std::string& problem) const { throw file_error(path_, problem); }

std::string byte_count(std::uint64_t n) {
  return std::to_string(n) + (n == 1 ? " byte" : " bytes");
}

void cursor::truncated(std::uint64_t at, std::uint64_t n, std::uint64_t has,
                       std::string_view what) const {
  if (has == 0) fail(noun_ + " is empty");
  fail("truncated: " + std::string(what) + " needs " + byte_count(n) + " at byte " +
       std::to_string(at) + ", " + noun_ + " has " + std::to_string(has));
}

void cursor::need(std::uint64_t n, std::string_view what) const {
  if (n > left() && size_ != unknown_size) truncated(at_, n, size_, what);
}

void cursor::expect_end(std::string_view what) const {
  if (size_ != unknown_size && at_ < size_)
    fail("trailing data: " + byte_count(size_ - at_) + " after " + std::string(what));
}

std::size_t cursor::fetch(std::uint8_t* dst, std::size_t n) {
  std::size_t got = 0;
  if (file_) {
    got = file_->read_at(at_, dst, n);
  } else if (stream_) {
    got = stream_->read(dst, n);
  } else {
    got = static_cast<std::size_t>(std::min<std::uint64_t>(n, bytes_.size() - at_));
    if (got) std::memcpy(dst, bytes_.data() + at_, got);
  }
  at_ += got;
  return got;
}

void cursor::read(void* dst, std::size_t n, std::string_view what) {
  need(n, what);
  const std::uint64_t from = at_;
  const std::size_t got = fetch(static_cast<std::uint8_t*>(dst), n);
  if (got < n) {
    // A stream ends where it ends; a file that shrank since it was opened ends there too.
    at_ = from;
    truncated(from, n, from + got, what);
  }
}

std::string cursor::text(std::size_t n, std::string_view what) {
  need(n, what);
  std::string s(n, '\0');
  read(s.data(), n, what);
  return s;
}

std::size_t cursor::read_some(void* dst, std::size_t n) {
  if (size_ != unknown_size) n = static_cast<std::size_t>(std::min<std::uint64_t>(n, left()));
  return fetch(static_cast<std::uint8_t*>(dst), n);
}

void cursor::skip(std::uint64_t n, std::string_view what) {
  need(n, what);
  if (seekable()) {
    at_ += n;
    return;
  }
  std::uint8_t sink[4096];
  for (std::uint64_t done = 0; done < n;) {
    const auto step = static_cast<std::size_t>(std::min<std::uint64_t>(sizeof sink, n - done));
    read(sink, step, what);
    done += step;
  }
}

void cursor::seek(std::uint64_t offset) {
  if (!seekable()) throw std::logic_error("kiln: seek on a stream");
  if (offset > size_) throw std::logic_error("kiln: seek past the end");
  at_ = offset;
}

void cursor::read_floats(dtype t, std::size_t count, float* dst, std::string_view what) {
  const std::size_t width = dtype_bytes(t);
  need(checked_mul(*this, count, width, what), what);
  if (t == dtype::f32) {  // already what the buffer holds: straight into it
    read(dst, count * width, what);
    return;
  }
  std::vector<std::uint8_t> chunk(std::min(count * width, chunk_bytes));
  for (std::size_t done = 0; done < count;) {
    const std::size_t n = std::min(count - done, chunk.size() / width);
    read(chunk.data(), n * width, what);
    to_float(t, chunk.data(), n, dst + done);
    done += n;
  }
}

std::uint64_t checked_mul(const cursor& c, std::uint64_t a, std::uint64_t b,
                          std::string_view what) {
  std::uint64_t r;
  if (__builtin_mul_overflow(a, b, &r)) c.fail(std::string(what) + " overflows");
  return r;
}

}  // namespace kiln::rt::io
