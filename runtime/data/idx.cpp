#include "kiln/runtime/data/idx.hpp"

#include <zlib.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <string>

#include "kiln/runtime/error.hpp"
#include "kiln/runtime/io/bytes.hpp"

namespace kiln::rt {
namespace {

namespace fs = std::filesystem;

constexpr std::size_t io_chunk = std::size_t{1} << 16;
// Decompressed data grows geometrically from here up to the size the header claims, so a tiny
// file claiming gigabytes costs only what it really inflates to.
constexpr std::size_t first_gzip_allocation = std::size_t{1} << 20;

struct file_closer {
  void operator()(std::FILE* f) const noexcept { std::fclose(f); }
};
using file_ptr = std::unique_ptr<std::FILE, file_closer>;

file_ptr open_for_reading(const fs::path& path) {
  std::error_code ec;
  const auto status = fs::status(path, ec);
  if (!fs::exists(status)) throw file_error(path.string(), "no such file");
  if (fs::is_directory(status)) throw file_error(path.string(), "is a directory, not a file");
  // Opening a FIFO would wait for a writer, and a device never ends: regular files only.
  if (!fs::is_regular_file(status)) throw file_error(path.string(), "not a regular file");
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) throw file_error(path.string(), std::string("cannot open: ") + std::strerror(errno));
  return file_ptr(f);
}

std::string hex_byte(unsigned v) {
  char s[8];
  std::snprintf(s, sizeof s, "0x%02X", v);
  return s;
}

// Reads the file's bytes as stored.
class raw_source {
 public:
  raw_source(std::FILE* f, const std::string& path) : f_(f), path_(path) {}
  // Fewer than n bytes only at the end of the file.
  std::size_t read(std::uint8_t* dst, std::size_t n) {
    const std::size_t got = std::fread(dst, 1, n, f_);
    if (got < n && std::ferror(f_)) throw file_error(path_, "read error");
    return got;
  }

 private:
  std::FILE* f_;
  const std::string& path_;
};

// Inflates a gzip file while reading it; several concatenated members (gzip a b > c) are one
// stream, as for gzip itself. The CRC and length of each member are checked by zlib.
class gzip_source {
 public:
  gzip_source(std::FILE* f, const std::string& path) : f_(f), path_(path), in_(io_chunk) {
    z_.zalloc = Z_NULL, z_.zfree = Z_NULL, z_.opaque = Z_NULL;
    z_.next_in = Z_NULL, z_.avail_in = 0;
    if (inflateInit2(&z_, 16 + MAX_WBITS) != Z_OK) throw file_error(path, "zlib failed");
  }
  ~gzip_source() { inflateEnd(&z_); }
  gzip_source(const gzip_source&) = delete;
  gzip_source& operator=(const gzip_source&) = delete;

  // Fewer than n bytes only at the end of the (last) gzip member.
  std::size_t read(std::uint8_t* dst, std::size_t n) {
    std::size_t produced = 0;
    while (produced < n && !finished_) {
      const auto want = static_cast<uInt>(std::min<std::size_t>(n - produced, UINT_MAX));
      z_.next_out = dst + produced;
      z_.avail_out = want;
      inflate_into_output();
      produced += want - z_.avail_out;
    }
    return produced;
  }

 private:
  void inflate_into_output() {
    while (z_.avail_out > 0 && !finished_) {
      if (z_.avail_in == 0 && !refill()) {
        if (in_member_) fail("truncated gzip stream: the compressed data ends early");
        finished_ = true;
        return;
      }
      if (!in_member_) start_next_member();
      const int rc = inflate(&z_, Z_NO_FLUSH);
      if (rc == Z_STREAM_END) {
        in_member_ = false;
      } else if (rc == Z_DATA_ERROR || rc == Z_NEED_DICT || rc == Z_STREAM_ERROR) {
        fail(std::string("corrupt gzip stream: ") + (z_.msg ? z_.msg : "invalid data"));
      } else if (rc == Z_MEM_ERROR) {
        fail("out of memory while decompressing");
      }
    }
  }

  bool refill() {
    const std::size_t got = std::fread(in_.data(), 1, in_.size(), f_);
    if (got == 0 && std::ferror(f_)) fail("read error");
    z_.next_in = in_.data();
    z_.avail_in = static_cast<uInt>(got);
    return got > 0;
  }

  void start_next_member() {
    if (z_.next_in[0] != 0x1f) fail("trailing bytes after the gzip stream");
    if (inflateReset(&z_) != Z_OK) fail("zlib failed");
    in_member_ = true;
  }

  [[noreturn]] void fail(const std::string& problem) { throw file_error(path_, problem); }

  std::FILE* f_;
  const std::string& path_;
  std::vector<std::uint8_t> in_;
  z_stream z_{};
  bool in_member_ = true;  // the caller saw the gzip magic
  bool finished_ = false;
};

struct idx_header {
  std::vector<std::uint32_t> dims;
  std::size_t header_bytes = 0;
  std::size_t data_bytes = 0;
};

template <class Source>
idx_header read_header(Source& src, const std::string& path) {
  const auto fail = [&](const std::string& problem) { throw file_error(path, problem); };
  std::array<std::uint8_t, 4> magic{};
  if (const std::size_t got = src.read(magic.data(), 4); got < 4)
    fail("truncated: the IDX header needs at least 4 bytes, found " + std::to_string(got));
  if (magic[0] != 0 || magic[1] != 0)
    fail("not an IDX file: it starts with " + hex_byte(magic[0]) + " " + hex_byte(magic[1]) +
         ", not two zero bytes");
  if (magic[2] != 0x08)
    fail("unsupported IDX type " + hex_byte(magic[2]) +
         " (only 0x08, unsigned byte, is supported)");
  const int rank = magic[3];
  if (rank < 1 || rank > 4)
    fail("unsupported number of dimensions " + std::to_string(rank) + " (expected 1 to 4)");

  idx_header h;
  h.header_bytes = 4 + 4 * static_cast<std::size_t>(rank);
  std::array<std::uint8_t, 16> raw_dims{};
  if (const std::size_t got = src.read(raw_dims.data(), 4 * rank); got < 4u * rank)
    fail("truncated: the IDX header needs " + std::to_string(h.header_bytes) + " bytes, found " +
         std::to_string(4 + got));

  std::string shape;
  for (int i = 0; i < rank; ++i) {
    const std::uint8_t* b = &raw_dims[4 * i];
    h.dims.push_back(std::uint32_t{b[0]} << 24 | std::uint32_t{b[1]} << 16 |
                     std::uint32_t{b[2]} << 8 | b[3]);
    shape += (i ? " x " : "") + std::to_string(h.dims.back());
  }
  for (int i = 0; i < rank; ++i)
    if (h.dims[i] == 0) fail("dimension " + std::to_string(i + 1) + " is zero (" + shape + ")");

  std::size_t size = 1;
  for (std::uint32_t d : h.dims)
    if (__builtin_mul_overflow(size, std::size_t{d}, &size))
      fail("size " + shape + " overflows " + std::to_string(sizeof(std::size_t) * 8) + " bits");
  if (std::size_t total; __builtin_add_overflow(size, h.header_bytes, &total))
    fail("size " + shape + " overflows " + std::to_string(sizeof(std::size_t) * 8) + " bits");
  h.data_bytes = size;
  return h;
}

std::string expected_bytes(const idx_header& h) {
  return std::to_string(h.header_bytes + h.data_bytes) + " bytes (" +
         std::to_string(h.header_bytes) + "-byte header + " + std::to_string(h.data_bytes) +
         " data)";
}

idx_u8 read_raw(std::FILE* f, const std::string& path, std::uintmax_t file_size) {
  raw_source src(f, path);
  idx_header h = read_header(src, path);
  const std::uintmax_t expected = h.header_bytes + h.data_bytes;
  if (file_size < expected)
    throw file_error(
        path, "truncated: expected " + expected_bytes(h) + ", found " + std::to_string(file_size));
  if (file_size > expected)
    throw file_error(path, "trailing data: expected " + expected_bytes(h) + ", found " +
                               std::to_string(file_size));
  idx_u8 out{std::move(h.dims), std::vector<std::uint8_t>(h.data_bytes)};
  if (src.read(out.data.data(), out.data.size()) < out.data.size())
    throw file_error(path, "truncated while reading (did the file change?)");
  return out;
}

idx_u8 read_gzip(std::FILE* f, const std::string& path, std::uintmax_t file_size) {
  gzip_source src(f, path);
  idx_header h = read_header(src, path);
  // A header claiming more than deflate can inflate to is a lie found before any allocation.
  if (std::uintmax_t most;
      !__builtin_mul_overflow(file_size, io::max_deflate_ratio, &most) && h.data_bytes > most)
    throw file_error(path, "claims " + expected_bytes(h) + ", more than a " +
                               std::to_string(file_size) + "-byte gzip file can inflate to");
  std::vector<std::uint8_t> data;
  std::size_t filled = 0;
  while (filled < h.data_bytes) {
    if (filled == data.size())
      data.resize(std::min(h.data_bytes, std::max(first_gzip_allocation, 2 * data.size())));
    const std::size_t got = src.read(data.data() + filled, data.size() - filled);
    filled += got;
    if (got == 0) break;
  }
  if (filled < h.data_bytes)
    throw file_error(path, "truncated: expected " + expected_bytes(h) +
                               " after decompression, found " +
                               std::to_string(h.header_bytes + filled));
  // One byte more is enough to know there is extra data; reading on to the end of the stream
  // also lets zlib check the CRC.
  std::uint8_t extra;
  if (src.read(&extra, 1) != 0)
    throw file_error(path, "trailing data: more than the expected " + expected_bytes(h) +
                               " after decompression");
  return {std::move(h.dims), std::move(data)};
}

// Raw or gzip, told by the first two bytes; `f` is at the start of `size` bytes.
idx_u8 read_stream(std::FILE* f, const std::string& path, std::uintmax_t size) {
  std::array<std::uint8_t, 2> magic{};
  const std::size_t got = std::fread(magic.data(), 1, 2, f);
  std::rewind(f);
  if (got == 2 && magic[0] == 0x1f && magic[1] == 0x8b) return read_gzip(f, path, size);
  return read_raw(f, path, size);
}

}  // namespace

idx_u8 read_idx(const fs::path& path) {
  const file_ptr file = open_for_reading(path);
  std::error_code ec;
  const std::uintmax_t file_size = fs::file_size(path, ec);
  if (ec) throw file_error(path.string(), "cannot get the file size: " + ec.message());
  return read_stream(file.get(), path.string(), file_size);
}

idx_u8 parse_idx(std::span<const std::uint8_t> bytes, const std::string& path) {
  // A FILE over the caller's memory: the same readers as for a file, nothing copied.
  static std::uint8_t none;
  std::FILE* f =
      fmemopen(bytes.empty() ? &none : const_cast<std::uint8_t*>(bytes.data()), bytes.size(), "rb");
  if (!f) throw file_error(path, std::string("cannot read from memory: ") + std::strerror(errno));
  const file_ptr file(f);
  return read_stream(f, path, bytes.size());
}

dataset read_idx_dataset(const fs::path& images, const fs::path& labels, int classes) {
  idx_u8 img = read_idx(images);
  if (img.dims.size() != 3)
    throw file_error(images.string(), "expected 3 dimensions (images x height x width), found " +
                                          std::to_string(img.dims.size()));
  const idx_u8 lab = read_idx(labels);
  if (lab.dims.size() != 1)
    throw file_error(labels.string(),
                     "expected 1 dimension (labels), found " + std::to_string(lab.dims.size()));
  if (lab.dims[0] != img.dims[0])
    throw file_error(labels.string(), std::to_string(lab.dims[0]) + " labels but " +
                                          images.string() + " has " + std::to_string(img.dims[0]) +
                                          " images");
  if (img.dims[1] > INT_MAX || img.dims[2] > INT_MAX)
    throw file_error(images.string(), "images too large");

  dataset d;
  d.name = images.string();
  d.sample_shape = {1, static_cast<int>(img.dims[1]), static_cast<int>(img.dims[2])};
  d.classes = classes;
  d.labels.resize(lab.data.size());
  for (std::size_t i = 0; i < lab.data.size(); ++i) {
    if (lab.data[i] >= classes)
      throw file_error(labels.string(), "label " + std::to_string(lab.data[i]) + " at index " +
                                            std::to_string(i) + " is not below " +
                                            std::to_string(classes) + " classes");
    d.labels[i] = lab.data[i];
  }

  // A table lookup per pixel: exactly pixel / 255 as float, and faster than dividing.
  static const auto to_unit = [] {
    std::array<float, 256> t{};
    for (int v = 0; v < 256; ++v) t[v] = static_cast<float>(v) / 255.0f;
    return t;
  }();
  d.x.resize(img.data.size());
  std::transform(img.data.begin(), img.data.end(), d.x.begin(),
                 [](std::uint8_t v) { return to_unit[v]; });
  return d;
}

}  // namespace kiln::rt
