#include "kiln/runtime/io/bytes.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <limits>
#include <cstdio>
#include <memory>
#include <string>
#include <utility>

#include "kiln/runtime/error.hpp"
#include "kiln/runtime/io/file.hpp"

namespace kiln::rt::io {
namespace {

namespace fs = std::filesystem;

std::string errno_text() { return std::strerror(errno); }

// Closes a descriptor on every path out of a function.
struct descriptor {
  int fd = -1;
  ~descriptor() {
    if (fd >= 0) ::close(fd);
  }
};

void write_all(int fd, const std::uint8_t* p, std::size_t n, const fs::path& path) {
  while (n > 0) {
    const ssize_t w = ::write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) throw file_error(path.string(), "write failed: " + errno_text());
    p += w;
    n -= static_cast<std::size_t>(w);
  }
}

}  // namespace

std::vector<std::uint8_t> read_file(const fs::path& path, std::uint64_t limit) {
  return input_file(path).read_all(limit);
}

void write_file_atomically(const fs::path& path, std::span<const std::uint8_t> content) {
  // Renaming over a device or a FIFO would replace it (/dev/full, as root, would become a
  // checkpoint): only a regular file, or none, is written.
  if (const std::string kind = non_regular_kind(path); !kind.empty())
    throw file_error(path.string(), kind == "a directory"
                                        ? "is a directory; kiln writes a file there, not into it"
                                        : "is " + kind + ", not a regular file; nothing written");
  const fs::path dir = path.has_parent_path() ? path.parent_path() : fs::path(".");
  std::string hidden = ".";  // a dot file beside the target, on the same file system
  hidden += path.filename().string();
  hidden += ".XXXXXX";
  std::string temp = (dir / hidden).string();
  descriptor f{::mkstemp(temp.data())};
  if (f.fd < 0) throw file_error(path.string(), "cannot create a temporary file: " + errno_text());
  try {
    write_all(f.fd, content.data(), content.size(), path);
    if (::fsync(f.fd) != 0) throw file_error(path.string(), "fsync failed: " + errno_text());
    if (::fchmod(f.fd, 0644) != 0) throw file_error(path.string(), "chmod failed: " + errno_text());
    ::close(std::exchange(f.fd, -1));
    if (std::rename(temp.c_str(), path.c_str()) != 0)
      throw file_error(path.string(), "cannot replace: " + errno_text());
  } catch (...) {
    ::unlink(temp.c_str());
    throw;
  }
  // The rename is durable only once the folder's entry is on disk.
  descriptor d{::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)};
  if (d.fd >= 0) ::fsync(d.fd);
}

std::optional<std::size_t> checked_count(std::span<const std::size_t> shape, std::size_t scale) {
  std::size_t n = scale;
  for (std::size_t d : shape)
    if (__builtin_mul_overflow(n, d, &n)) return std::nullopt;
  return n;
}

std::string printable(std::string_view text, std::size_t limit) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (i == limit) return out + "...";
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      char hex[8];
      std::snprintf(hex, sizeof hex, "\\x%02X", c);
      out += hex;
    }
  }
  return out;
}

std::string quoted(std::string_view text, std::size_t limit) {
  // Appended piece by piece: "'" + printable(...) + "'" trips GCC 12's -Wrestrict (PR105329).
  std::string out = "'";
  out += printable(text, limit);
  out += '\'';
  return out;
}

float half_to_float(std::uint16_t h) noexcept {
  const std::uint32_t sign = std::uint32_t{h & 0x8000u} << 16;
  const int exponent = (h >> 10) & 0x1f;
  const std::uint32_t mantissa = h & 0x3ffu;
  float magnitude;
  if (exponent == 0)
    magnitude = std::ldexp(static_cast<float>(mantissa), -24);  // zero and subnormals
  else if (exponent == 31)
    magnitude =
        mantissa ? std::numeric_limits<float>::quiet_NaN() : std::numeric_limits<float>::infinity();
  else
    magnitude = std::ldexp(static_cast<float>(mantissa | 0x400u), exponent - 25);
  std::uint32_t bits;
  std::memcpy(&bits, &magnitude, 4);
  bits |= sign;
  float out;
  std::memcpy(&out, &bits, 4);
  return out;
}

std::uint16_t float_to_half(float f) noexcept {
  std::uint32_t bits;
  std::memcpy(&bits, &f, 4);
  const auto sign = static_cast<std::uint16_t>((bits >> 16) & 0x8000u);
  const float a = std::fabs(f);
  if (std::isnan(f)) return sign | 0x7e00u;
  if (a >= 65520.0f) return sign | 0x7c00u;  // rounds to infinity
  if (a < 0x1.0p-14f) {
    // Subnormal half: a multiple of 2^-24; nearbyint rounds to nearest even.
    return sign | static_cast<std::uint16_t>(std::nearbyint(a * 0x1.0p24f));
  }
  // Normal: drop 13 mantissa bits with round to nearest even; a carry moves into the exponent.
  std::uint32_t m = bits & 0x7fffffffu;
  m += 0xfffu + ((m >> 13) & 1u);
  return sign | static_cast<std::uint16_t>((m >> 13) - (std::uint32_t{112} << 10));
}

float bfloat16_to_float(std::uint16_t b) noexcept {
  const std::uint32_t bits = std::uint32_t{b} << 16;
  float out;
  std::memcpy(&out, &bits, 4);
  return out;
}

std::uint16_t float_to_bfloat16(float f) noexcept {
  std::uint32_t bits;
  std::memcpy(&bits, &f, 4);
  if (std::isnan(f)) return static_cast<std::uint16_t>((bits >> 16) | 0x40u);
  bits += 0x7fffu + ((bits >> 16) & 1u);
  return static_cast<std::uint16_t>(bits >> 16);
}

void to_float(dtype t, const std::uint8_t* src, std::size_t count, float* dst) noexcept {
  const std::size_t w = dtype_bytes(t);
  for (std::size_t i = 0; i < count; ++i, src += w) {
    switch (t) {
      case dtype::f32:
        dst[i] = load_le<float>(src);
        break;
      case dtype::f16:
        dst[i] = half_to_float(load_le<std::uint16_t>(src));
        break;
      case dtype::bf16:
        dst[i] = bfloat16_to_float(load_le<std::uint16_t>(src));
        break;
      case dtype::f64:
        dst[i] = static_cast<float>(load_le<double>(src));
        break;
      case dtype::i64:
        dst[i] = static_cast<float>(load_le<std::int64_t>(src));
        break;
      case dtype::i32:
        dst[i] = static_cast<float>(load_le<std::int32_t>(src));
        break;
      case dtype::u8:
        dst[i] = static_cast<float>(*src);
        break;
    }
  }
}

}  // namespace kiln::rt::io
