#include "kiln/runtime/io/npy.hpp"

#include <algorithm>
#include <cctype>
#include <optional>
#include <string_view>

#include "kiln/runtime/error.hpp"
#include "kiln/runtime/io/bytes.hpp"
#include "kiln/runtime/io/cursor.hpp"
#include "kiln/runtime/io/file.hpp"

namespace kiln::rt {
namespace {

constexpr std::string_view magic = "\x93NUMPY";
constexpr std::size_t max_rank = 32;  // NumPy's own limit

// A tiny reader of the header's Python dict literal. It accepts exactly what NumPy writes (and
// reasonable spacing): three keys in any order, string / bool / tuple-of-int values.
class header_parser {
 public:
  header_parser(std::string_view text, const std::string& path) : s_(text), path_(path) {}

  struct result {
    std::string descr;
    bool fortran = false;
    std::vector<std::size_t> shape;
  };

  result parse() {
    result r;
    bool seen_descr = false, seen_order = false, seen_shape = false;
    expect('{');
    while (!peek('}')) {
      const std::string key = string_literal();
      expect(':');
      // A repeated key would let one of two dtypes or shapes win silently.
      const auto once = [&](bool& seen) {
        if (seen) fail("the key '" + key + "' appears twice");
        seen = true;
      };
      if (key == "descr") {
        once(seen_descr);
        if (peek('[')) fail("structured dtypes (records with named fields) are not supported");
        r.descr = string_literal();
      } else if (key == "fortran_order") {
        once(seen_order);
        r.fortran = boolean();
      } else if (key == "shape") {
        once(seen_shape);
        r.shape = tuple();
      } else {
        fail("unexpected key '" + io::printable(key) + "'");
      }
      if (!peek('}')) expect(',');
    }
    expect('}');
    skip_space();
    if (i_ != s_.size()) fail("unexpected text after the dictionary");
    if (!seen_descr || !seen_order || !seen_shape)
      fail("needs the keys 'descr', 'fortran_order' and 'shape'");
    return r;
  }

 private:
  [[noreturn]] void fail(const std::string& problem) {
    throw file_error(path_, "malformed .npy header: " + problem);
  }
  void skip_space() {
    while (i_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[i_]))) ++i_;
  }
  bool peek(char c) {
    skip_space();
    return i_ < s_.size() && s_[i_] == c;
  }
  void expect(char c) {
    if (!peek(c)) fail(std::string("expected '") + c + "'");
    ++i_;
  }
  std::string string_literal() {
    skip_space();
    if (i_ >= s_.size() || (s_[i_] != '\'' && s_[i_] != '"')) fail("expected a string");
    const char quote = s_[i_++];
    const std::size_t end = s_.find(quote, i_);
    if (end == std::string_view::npos) fail("unterminated string");
    std::string out(s_.substr(i_, end - i_));
    i_ = end + 1;
    return out;
  }
  bool boolean() {
    skip_space();
    for (const auto& [word, value] : {std::pair{"True", true}, std::pair{"False", false}})
      if (s_.substr(i_, std::string_view(word).size()) == word) {
        i_ += std::string_view(word).size();
        return value;
      }
    fail("expected True or False");
  }
  std::vector<std::size_t> tuple() {
    std::vector<std::size_t> dims;
    expect('(');
    while (!peek(')')) {
      skip_space();
      if (i_ >= s_.size() || !std::isdigit(static_cast<unsigned char>(s_[i_])))
        fail("a dimension is not a non-negative integer");
      std::size_t d = 0;
      while (i_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[i_]))) {
        if (__builtin_mul_overflow(d, std::size_t{10}, &d) ||
            __builtin_add_overflow(d, std::size_t(s_[i_] - '0'), &d))
          fail("a dimension is too large");
        ++i_;
      }
      skip_space();
      if (i_ < s_.size() && s_[i_] == 'L') ++i_;  // Python 2 longs
      if (dims.size() == max_rank) fail("more than 32 dimensions");
      dims.push_back(d);
      if (!peek(')')) expect(',');
    }
    expect(')');
    return dims;
  }

  std::string_view s_;
  const std::string& path_;
  std::size_t i_ = 0;
};

std::optional<dtype> parse_descr(const std::string& d) {
  // '=' is native order, little-endian on every platform kiln runs on; '|' means "not applicable".
  if (d.size() < 3) return std::nullopt;
  const char order = d[0];
  const std::string type = d.substr(1);
  if (type == "u1" || type == "b1") {
    if (order == '|' || order == '<' || order == '=') return dtype::u8;
    return std::nullopt;
  }
  if (order != '<' && order != '=') return std::nullopt;
  if (type == "f4") return dtype::f32;
  if (type == "f2") return dtype::f16;
  if (type == "f8") return dtype::f64;
  if (type == "i8") return dtype::i64;
  if (type == "i4") return dtype::i32;
  return std::nullopt;
}

// The C-order offset of each element of a Fortran-order array, in file order: the first index
// runs fastest.
class fortran_walk {
 public:
  explicit fortran_walk(const std::vector<std::size_t>& shape)
      : shape_(shape), index_(shape.size(), 0) {}
  std::size_t next() {
    std::size_t c_offset = 0;
    for (std::size_t d = 0; d < shape_.size(); ++d) c_offset = c_offset * shape_[d] + index_[d];
    for (std::size_t d = 0; d < shape_.size() && ++index_[d] == shape_[d]; ++d) index_[d] = 0;
    return c_offset;
  }

 private:
  const std::vector<std::size_t>& shape_;
  std::vector<std::size_t> index_;
};

// NumPy writes a few hundred bytes of header (and refuses more than 10000 to read by default).
constexpr std::size_t max_header = std::size_t{1} << 20;

}  // namespace

named_tensor read_npy(io::cursor& c, const std::string& name) {
  char m[6] = {};
  if (c.size() == 0) c.need(1, "the magic");  // "... is empty"
  if (c.read_some(m, 6) < 6 || std::string_view(m, 6) != magic)
    c.fail("not a .npy file (no \\x93NUMPY magic)");
  // Version (2 bytes), header length (2 bytes in version 1, 4 in versions 2 and 3).
  const auto major = c.le<std::uint8_t>("the version");
  const auto minor = c.le<std::uint8_t>("the version");
  std::size_t header_len = 0;
  if (major == 1)
    header_len = c.le<std::uint16_t>("the header length");
  else if (major == 2 || major == 3)
    header_len = c.le<std::uint32_t>("the header length");
  else
    c.fail("unsupported .npy version " + std::to_string(major) + "." + std::to_string(minor));
  c.need(header_len, "the header");
  if (header_len > max_header)
    c.fail("header length " + std::to_string(header_len) +
           " is more than the 1 MiB kiln reads (NumPy writes a few hundred bytes)");
  const std::string text = c.text(header_len, "the header");
  const auto h = header_parser(text, c.path()).parse();
  const auto type = parse_descr(h.descr);
  if (!type && h.descr.size() >= 2 && h.descr[1] == 'O')
    c.fail("object arrays (pickled Python objects) are not supported; kiln never unpickles");
  if (!type && (h.descr.starts_with('>') || h.descr.starts_with('!'))) {
    std::string little = h.descr;
    little[0] = '<';
    c.fail("dtype " + io::quoted(h.descr) + " is big-endian; save it little-endian (" +
           io::quoted(little) + ")");
  }
  if (!type)
    c.fail("dtype " + io::quoted(h.descr) +
           " is not supported (little-endian f4, f2, f8, i8, i4, u1 and b1 are)");
  const std::string what = "shape " + shape_text(h.shape) + " of " + io::printable(h.descr);
  const auto count = io::checked_count(h.shape);
  if (!count) c.fail(what + " overflows");
  // Every size checked against the file before the values are allocated.
  c.need(io::checked_mul(c, *count, dtype_bytes(*type), what), what);

  named_tensor t{name, *type, h.shape, {}};
  t.values.resize(*count);
  if (!h.fortran || h.shape.size() < 2) {
    c.read_floats(*type, *count, t.values.data(), what);
  } else {
    // Transposed while read, a chunk at a time: no second copy of the array.
    std::vector<float> chunk(std::min<std::size_t>(*count, 1 << 14));
    fortran_walk walk(h.shape);
    for (std::size_t done = 0; done < *count;) {
      const std::size_t n = std::min(chunk.size(), *count - done);
      c.read_floats(*type, n, chunk.data(), what);
      for (std::size_t k = 0; k < n; ++k) t.values[walk.next()] = chunk[k];
      done += n;
    }
  }
  c.expect_end("the array");
  return t;
}

named_tensor parse_npy(std::span<const std::uint8_t> bytes, const std::string& path,
                       const std::string& name) {
  io::cursor c(bytes, path);
  return read_npy(c, name);
}

tensor_file read_npy(const std::filesystem::path& path) {
  const io::input_file file(path);
  io::cursor c(file);
  tensor_file f;
  f.path = path.string();
  f.format = "npy";
  f.tensors.push_back(read_npy(c, path.stem().string()));
  return f;
}

namespace {

// Version 1.0, C order, the values' bytes as they are in memory (little-endian).
template <class T>
std::vector<std::uint8_t> serialize_as(const char* descr, std::span<const std::size_t> shape,
                                       std::span<const T> values) {
  const auto n = io::checked_count(shape);
  if (!n || *n != values.size())
    throw config_error("npy", "shape " + shape_text(shape) + " does not match its " +
                                  std::to_string(values.size()) + " values");
  std::string dims;  // Python's tuple syntax: (), (3,), (3, 4)
  for (std::size_t d : shape) dims += (dims.empty() ? "" : ", ") + std::to_string(d);
  if (shape.size() == 1) dims += ',';
  std::string header =
      std::string("{'descr': '") + descr + "', 'fortran_order': False, 'shape': (" + dims + "), }";
  // Magic (6) + version (2) + length (2) + header + '\n', padded with spaces to 64 bytes.
  const std::size_t unpadded = 10 + header.size() + 1;
  header.append((64 - unpadded % 64) % 64, ' ');
  header += '\n';
  if (header.size() > 0xffff) throw config_error("npy", "too many dimensions for a 1.0 header");
  std::vector<std::uint8_t> out(10 + header.size() + values.size_bytes());
  std::memcpy(out.data(), magic.data(), 6);
  out[6] = 1, out[7] = 0;
  const auto len = static_cast<std::uint16_t>(header.size());
  std::memcpy(out.data() + 8, &len, 2);
  std::memcpy(out.data() + 10, header.data(), header.size());
  std::memcpy(out.data() + 10 + header.size(), values.data(), values.size_bytes());
  return out;
}

}  // namespace

std::vector<std::uint8_t> serialize_npy(std::span<const std::size_t> shape,
                                        std::span<const float> values) {
  return serialize_as("<f4", shape, values);
}

std::vector<std::uint8_t> serialize_npy(std::span<const std::size_t> shape,
                                        std::span<const std::int64_t> values) {
  return serialize_as("<i8", shape, values);
}

void write_npy(const std::filesystem::path& path, std::span<const std::size_t> shape,
               std::span<const std::int64_t> values) {
  io::write_file_atomically(path, serialize_npy(shape, values));
}

void write_npy(const std::filesystem::path& path, std::span<const std::size_t> shape,
               std::span<const float> values) {
  io::write_file_atomically(path, serialize_npy(shape, values));
}

}  // namespace kiln::rt
