#include "kiln/runtime/io/gzip.hpp"

#include <zlib.h>

#include <algorithm>
#include <climits>

#include "kiln/runtime/error.hpp"
#include "kiln/runtime/io/bytes.hpp"

namespace kiln::rt::io {

bool is_gzip(std::span<const std::uint8_t> bytes) noexcept {
  return bytes.size() >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b;
}

std::vector<std::uint8_t> gunzip(std::span<const std::uint8_t> bytes, const std::string& path,
                                 std::uint64_t limit) {
  const auto fail = [&](const std::string& problem) { throw file_error(path, problem); };
  if (!is_gzip(bytes)) fail("not a gzip file (no 1f 8b magic)");
  const std::uint64_t format_limit = limit;
  // Deflate cannot pass 1032:1: more inflated data than that is a stream that lies (a bomb).
  if (std::uint64_t most;
      !__builtin_mul_overflow(bytes.size(), max_deflate_ratio, &most) && most < limit)
    limit = most;
  z_stream z{};
  if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) fail("zlib failed");
  struct ender {
    z_stream* z;
    ~ender() { inflateEnd(z); }
  } end{&z};
  std::vector<std::uint8_t> out;
  std::size_t filled = 0;
  std::size_t at = 0;  // input consumed
  for (;;) {
    // Output grows geometrically as data arrives: a small file claiming much costs little.
    if (filled == out.size()) {
      if (out.size() >= limit)
        fail(limit < format_limit
                 ? "inflates past " + std::to_string(limit) + " bytes, more than " +
                       std::to_string(bytes.size()) + " deflated bytes can hold (a zip bomb?)"
                 : "inflates past the " + std::to_string(limit) + "-byte limit for this format");
      out.resize(std::min<std::uint64_t>(limit, std::max<std::size_t>(1 << 16, 2 * out.size())));
    }
    z.next_in = const_cast<Bytef*>(bytes.data() + at);
    z.avail_in = static_cast<uInt>(std::min<std::size_t>(bytes.size() - at, UINT_MAX));
    z.next_out = out.data() + filled;
    z.avail_out = static_cast<uInt>(std::min<std::size_t>(out.size() - filled, UINT_MAX));
    const uInt in_before = z.avail_in, out_before = z.avail_out;
    const int rc = inflate(&z, Z_NO_FLUSH);
    at += in_before - z.avail_in;
    filled += out_before - z.avail_out;
    if (rc == Z_STREAM_END) {
      if (at == bytes.size()) break;
      // Another member (gzip a b > c), or garbage.
      if (!is_gzip(bytes.subspan(at))) fail("trailing bytes after the gzip stream");
      if (inflateReset(&z) != Z_OK) fail("zlib failed");
      continue;
    }
    if (rc == Z_DATA_ERROR || rc == Z_NEED_DICT || rc == Z_STREAM_ERROR)
      fail(std::string("corrupt gzip stream: ") + (z.msg ? z.msg : "invalid data"));
    if (rc == Z_MEM_ERROR) fail("out of memory while decompressing");
    if (rc == Z_BUF_ERROR && z.avail_out > 0 && at == bytes.size())
      fail("truncated gzip stream: the compressed data ends early");
  }
  out.resize(filled);
  return out;
}

}  // namespace kiln::rt::io
