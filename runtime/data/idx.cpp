#include "kiln/runtime/data/idx.hpp"

#include <zlib.h>

#include <algorithm>
#include <array>
#include <climits>
#include <new>
#include <cstdio>
#include <optional>
#include <string>

#include "kiln/runtime/error.hpp"
#include "kiln/runtime/io/bytes.hpp"
#include "kiln/runtime/io/cursor.hpp"
#include "kiln/runtime/io/file.hpp"

namespace kiln::rt {
namespace {

namespace fs = std::filesystem;

constexpr std::size_t io_chunk = std::size_t{1} << 16;
// A gzip file whose length field disagrees with its header (several members, or a lie) gets
// this much memory up front; more only as inflated data really arrives.
constexpr std::size_t untrusted_reserve = std::size_t{1} << 20;

std::string hex_byte(unsigned v) {
  char s[8];
  std::snprintf(s, sizeof s, "0x%02X", v);
  return s;
}

// Inflates a gzip file while it is read from `in`; several concatenated members (gzip a b > c)
// are one stream, as for gzip itself. The CRC and length of each member are checked by zlib.
class gzip_stream : public io::stream {
 public:
  explicit gzip_stream(io::cursor& in) : in_(in), buffer_(io_chunk) {
    z_.zalloc = Z_NULL, z_.zfree = Z_NULL, z_.opaque = Z_NULL;
    z_.next_in = Z_NULL, z_.avail_in = 0;
    if (inflateInit2(&z_, 16 + MAX_WBITS) != Z_OK) in.fail("zlib failed");
  }
  ~gzip_stream() override { inflateEnd(&z_); }
  gzip_stream(const gzip_stream&) = delete;
  gzip_stream& operator=(const gzip_stream&) = delete;

  // Fewer than n bytes only at the end of the (last) gzip member.
  std::size_t read(std::uint8_t* dst, std::size_t n) override {
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
        if (in_member_) in_.fail("truncated gzip stream: the compressed data ends early");
        finished_ = true;
        return;
      }
      if (!in_member_) start_next_member();
      const int rc = inflate(&z_, Z_NO_FLUSH);
      if (rc == Z_STREAM_END) {
        in_member_ = false;
      } else if (rc == Z_DATA_ERROR || rc == Z_NEED_DICT || rc == Z_STREAM_ERROR) {
        in_.fail(std::string("corrupt gzip stream: ") + (z_.msg ? z_.msg : "invalid data"));
      } else if (rc == Z_MEM_ERROR) {
        in_.fail("out of memory while decompressing");
      }
    }
  }

  bool refill() {
    const std::size_t got = in_.read_some(buffer_.data(), buffer_.size());
    z_.next_in = buffer_.data();
    z_.avail_in = static_cast<uInt>(got);
    return got > 0;
  }

  void start_next_member() {
    if (z_.next_in[0] != 0x1f) in_.fail("trailing bytes after the gzip stream");
    if (inflateReset(&z_) != Z_OK) in_.fail("zlib failed");
    in_member_ = true;
  }

  io::cursor& in_;
  std::vector<std::uint8_t> buffer_;
  z_stream z_{};
  bool in_member_ = true;  // the caller saw the gzip magic
  bool finished_ = false;
};

struct idx_header {
  std::vector<std::uint32_t> dims;
  std::string shape;  // "2 x 4 x 4"
  std::size_t header_bytes = 0;
  std::size_t data_bytes = 0;
  std::string data() const { return "the data (" + shape + ")"; }
};

idx_header read_header(io::cursor& c) {
  std::array<std::uint8_t, 4> magic{};
  c.read(magic.data(), 4, "the IDX header");
  if (magic[0] != 0 || magic[1] != 0)
    c.fail("not an IDX file: it starts with " + hex_byte(magic[0]) + " " + hex_byte(magic[1]) +
           ", not two zero bytes");
  if (magic[2] != 0x08)
    c.fail("unsupported IDX type " + hex_byte(magic[2]) +
           " (only 0x08, unsigned byte, is supported)");
  const int rank = magic[3];
  if (rank < 1 || rank > 4)
    c.fail("unsupported number of dimensions " + std::to_string(rank) + " (expected 1 to 4)");

  idx_header h;
  h.header_bytes = 4 + 4 * static_cast<std::size_t>(rank);
  for (int i = 0; i < rank; ++i) {
    // One read for the whole header, so that a short one names all it needs.
    if (i == 0) c.need(4u * rank, "the IDX header");
    h.dims.push_back(c.be<std::uint32_t>("the IDX header"));
    h.shape += (i ? " x " : "") + std::to_string(h.dims.back());
  }
  for (int i = 0; i < rank; ++i)
    if (h.dims[i] == 0) c.fail("dimension " + std::to_string(i + 1) + " is zero (" + h.shape + ")");

  std::size_t size = 1;
  for (std::uint32_t d : h.dims)
    if (__builtin_mul_overflow(size, std::size_t{d}, &size))
      c.fail("size " + h.shape + " overflows " + std::to_string(sizeof(std::size_t) * 8) + " bits");
  if (std::size_t total; __builtin_add_overflow(size, h.header_bytes, &total))
    c.fail("size " + h.shape + " overflows " + std::to_string(sizeof(std::size_t) * 8) + " bits");
  h.data_bytes = size;
  return h;
}

idx_u8 read_raw(io::cursor& c) {
  idx_header h = read_header(c);
  // Checked against the file before anything is allocated; then one read into the result.
  c.need(h.data_bytes, h.data());
  idx_u8 out{std::move(h.dims), std::vector<std::uint8_t>(h.data_bytes)};
  c.read(out.data.data(), out.data.size(), h.data());
  c.expect_end(h.data());
  return out;
}

// The gzip length field (the last member's size modulo 2^32), or nothing.
std::optional<std::uint32_t> gzip_length_field(io::cursor& in) {
  if (!in.seekable() || in.size() < 18) return std::nullopt;
  const std::uint64_t at = in.offset();
  in.seek(in.size() - 4);
  const auto isize = in.le<std::uint32_t>("the gzip length field");
  in.seek(at);
  return isize;
}

idx_u8 read_gzip(io::cursor& in) {
  const std::optional<std::uint32_t> isize = gzip_length_field(in);
  gzip_stream inflated(in);
  io::cursor c(inflated, io::cursor::unknown_size, in.path(), "the inflated data");
  idx_header h = read_header(c);
  // A header claiming more than deflate can inflate to is a lie found before any allocation.
  if (std::uint64_t most;
      !__builtin_mul_overflow(in.size(), io::max_deflate_ratio, &most) && h.data_bytes > most)
    c.fail("claims " + std::to_string(h.header_bytes + h.data_bytes) + " bytes (" +
           std::to_string(h.header_bytes) + "-byte header + " + std::to_string(h.data_bytes) +
           " data), more than a " + std::to_string(in.size()) + "-byte gzip file can inflate to");
  // One allocation of the declared size when the gzip length field agrees (one member, as gzip
  // writes); else memory follows the data that really arrives. Either way pages are touched
  // only as the data is inflated into them.
  const bool agrees = isize && *isize == static_cast<std::uint32_t>(h.header_bytes + h.data_bytes);
  std::vector<std::uint8_t> data;
  try {
    data.reserve(agrees ? h.data_bytes : std::min(h.data_bytes, untrusted_reserve));
  } catch (const std::bad_alloc&) {
    c.fail("claims " + std::to_string(h.data_bytes) + " bytes of data, more than can be allocated");
  }
  std::vector<std::uint8_t> chunk(std::min(h.data_bytes, io_chunk));
  while (data.size() < h.data_bytes) {
    const std::size_t want = std::min(chunk.size(), h.data_bytes - data.size());
    const std::size_t got = c.read_some(chunk.data(), want);
    data.insert(data.end(), chunk.begin(), chunk.begin() + static_cast<std::ptrdiff_t>(got));
    if (got < want) c.truncated(h.header_bytes, h.data_bytes, c.offset(), h.data());
  }
  // One byte more is enough to know there is extra data; reading on to the end of the stream
  // also lets zlib check the CRC.
  std::uint8_t extra;
  if (c.read_some(&extra, 1) != 0)
    c.fail("trailing data: the inflated data goes on after " + h.data() + " at byte " +
           std::to_string(h.header_bytes + h.data_bytes));
  return {std::move(h.dims), std::move(data)};
}

// Raw or gzip, told by the first two bytes.
idx_u8 read_any(io::cursor& c) {
  std::array<std::uint8_t, 2> magic{};
  const std::size_t got = c.read_some(magic.data(), 2);
  c.seek(0);
  if (got == 2 && magic[0] == 0x1f && magic[1] == 0x8b) return read_gzip(c);
  return read_raw(c);
}

}  // namespace

idx_u8 read_idx(const fs::path& path) {
  const io::input_file file(path);
  io::cursor c(file);
  return read_any(c);
}

idx_u8 parse_idx(std::span<const std::uint8_t> bytes, const std::string& path) {
  io::cursor c(bytes, path);
  return read_any(c);
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
