#include "kiln/runtime/io/npy.hpp"

#include <algorithm>
#include <cctype>
#include <optional>
#include <string_view>

#include "kiln/runtime/error.hpp"
#include "kiln/runtime/io/bytes.hpp"

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

// Fortran order holds the transpose; C order is what kiln (and PyTorch) use.
std::vector<float> from_fortran_order(const std::vector<float>& f,
                                      const std::vector<std::size_t>& shape) {
  std::vector<float> c(f.size());
  const std::size_t rank = shape.size();
  std::vector<std::size_t> index(rank, 0);
  for (std::size_t k = 0; k < f.size(); ++k) {
    std::size_t c_offset = 0;
    for (std::size_t d = 0; d < rank; ++d) c_offset = c_offset * shape[d] + index[d];
    c[c_offset] = f[k];
    for (std::size_t d = 0; d < rank && ++index[d] == shape[d]; ++d) index[d] = 0;  // first fastest
  }
  return c;
}

}  // namespace

named_tensor parse_npy(std::span<const std::uint8_t> bytes, const std::string& path,
                       const std::string& name) {
  const auto fail = [&](const std::string& problem) { throw file_error(path, problem); };
  if (bytes.size() < magic.size() ||
      std::string_view(reinterpret_cast<const char*>(bytes.data()), magic.size()) != magic)
    fail("not a .npy file (no \\x93NUMPY magic)");
  // Magic, version (2 bytes), header length (2 bytes in version 1, 4 in versions 2 and 3).
  const auto preamble = [&](std::size_t n) {
    if (bytes.size() < n)
      fail("truncated: the .npy preamble needs " + std::to_string(n) + " bytes, the file has " +
           std::to_string(bytes.size()));
  };
  preamble(8);
  const int major = bytes[6];
  std::size_t header_len = 0, header_at = 0;
  if (major == 1) {
    preamble(10);
    header_len = io::load_le<std::uint16_t>(bytes.data() + 8), header_at = 10;
  } else if (major == 2 || major == 3) {
    preamble(12);
    header_len = io::load_le<std::uint32_t>(bytes.data() + 8), header_at = 12;
  } else {
    fail("unsupported .npy version " + std::to_string(major) + "." + std::to_string(bytes[7]));
  }
  if (header_len > bytes.size() - header_at)
    fail("truncated: the header needs " + std::to_string(header_len) + " bytes, " +
         std::to_string(bytes.size() - header_at) + " follow");
  const std::string_view text(reinterpret_cast<const char*>(bytes.data() + header_at), header_len);
  const auto h = header_parser(text, path).parse();
  const auto type = parse_descr(h.descr);
  if (!type && h.descr.size() >= 2 && h.descr[1] == 'O')
    fail("object arrays (pickled Python objects) are not supported; kiln never unpickles");
  if (!type && (h.descr.starts_with('>') || h.descr.starts_with('!'))) {
    std::string little = h.descr;
    little[0] = '<';
    fail("dtype " + io::quoted(h.descr) + " is big-endian; save it little-endian (" +
         io::quoted(little) + ")");
  }
  if (!type)
    fail("dtype " + io::quoted(h.descr) +
         " is not supported (little-endian f4, f2, f8, i8, i4, u1 and b1 are)");
  const auto needed = io::checked_count(h.shape, dtype_bytes(*type));
  if (!needed) fail("shape " + shape_text(h.shape) + " overflows");
  const std::size_t available = bytes.size() - header_at - header_len;
  if (available < *needed)
    fail("truncated: shape " + shape_text(h.shape) + " of " + io::printable(h.descr) + " needs " +
         std::to_string(*needed) + " data bytes, found " + std::to_string(available));
  if (available > *needed)
    fail("trailing data: " + std::to_string(available - *needed) + " bytes after the array");

  named_tensor t{name, *type, h.shape, {}};
  t.values.resize(*needed / dtype_bytes(*type));
  io::to_float(*type, bytes.data() + header_at + header_len, t.values.size(), t.values.data());
  if (h.fortran && h.shape.size() > 1) t.values = from_fortran_order(t.values, t.shape);
  return t;
}

tensor_file read_npy(const std::filesystem::path& path) {
  const auto bytes = io::read_file(path);
  tensor_file f;
  f.path = path.string();
  f.format = "npy";
  f.tensors.push_back(parse_npy(bytes, path.string(), path.stem().string()));
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
