#include "kiln/runtime/io/safetensors.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <istream>
#include <streambuf>
#include <limits>
#include <functional>
#include <set>
#include <string>
#include <utility>

#include "kiln/runtime/error.hpp"
#include "kiln/runtime/io/bytes.hpp"
#include "kiln/runtime/io/cursor.hpp"
#include "kiln/runtime/io/file.hpp"

namespace kiln::rt {
namespace {

using json = nlohmann::ordered_json;  // keeps the file order of the tensors

// The reference implementation refuses headers over 100 MB; so does kiln.
constexpr std::uint64_t max_header = 100'000'000;
// The header object, a tensor's entry, its shape: containers start at depths 0, 1 and 2.
constexpr int max_depth = 3;

std::optional<dtype> parse_dtype(const std::string& s) {
  for (dtype t :
       {dtype::f32, dtype::f16, dtype::bf16, dtype::f64, dtype::i64, dtype::i32, dtype::u8})
    if (dtype_name(t) == s) return t;
  return std::nullopt;
}

struct entry {
  std::string name;
  dtype type;
  std::vector<std::size_t> shape;
  std::uint64_t begin, end;
};

std::size_t to_size(const json& v, const std::string& what,
                    const std::function<void(const std::string&)>& fail) {
  if (!v.is_number_unsigned()) fail(what + " is not a non-negative integer");
  const auto u = v.get<std::uint64_t>();
  if (u > std::numeric_limits<std::size_t>::max()) fail(what + " is too large");
  return static_cast<std::size_t>(u);
}

// The JSON header, handed to the parser as it asks for it: a header that is not JSON is refused
// at its first bad byte, whatever length it claims, before the rest is read.
class header_buffer : public std::streambuf {
 public:
  header_buffer(io::cursor& c, std::uint64_t size) : c_(c), left_(size) {}

 protected:
  int_type underflow() override {
    if (left_ == 0) return traits_type::eof();
    const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(left_, chunk_.size()));
    c_.read(chunk_.data(), n, "the JSON header");
    left_ -= n;
    setg(chunk_.data(), chunk_.data(), chunk_.data() + n);
    return traits_type::to_int_type(chunk_[0]);
  }

 private:
  io::cursor& c_;
  std::uint64_t left_;
  std::array<char, 1 << 16> chunk_;
};

// From where `c` stands: the header first (its JSON parsed as it is read), every byte range
// checked against the file, then each tensor read once into its values.
tensor_file read_from(io::cursor& c) {
  const auto fail = [&](const std::string& problem) { c.fail(problem); };
  const auto header_size = c.le<std::uint64_t>("the header length");
  if (header_size > max_header)
    fail("header length " + std::to_string(header_size) + " exceeds the 100 MB limit");
  c.need(header_size, "the header");
  // While parsing: a repeated key would silently drop a tensor (or a dtype), and nesting deeper
  // than object -> tensor entry -> shape costs memory for nothing ('[[[[...' of 100 MB).
  std::vector<std::set<std::string>> keys;
  const json::parser_callback_t check = [&](int depth, json::parse_event_t event, json& parsed) {
    using ev = json::parse_event_t;
    if (event == ev::object_start || event == ev::array_start) {
      if (depth >= max_depth) fail("malformed header: nested deeper than a safetensors header");
      if (event == ev::object_start) {  // a fresh set of keys for it
        keys.resize(static_cast<std::size_t>(depth) + 1);
        keys.back().clear();
      }
    } else if (event == ev::key) {
      const std::string& k = parsed.get_ref<const std::string&>();
      if (!keys[static_cast<std::size_t>(depth) - 1].insert(k).second)
        fail(depth == 1 ? "the tensor name '" + io::printable(k) + "' appears twice"
                        : "malformed header: the key '" + io::printable(k) + "' appears twice");
    }
    return true;
  };
  json header;
  {
    header_buffer buffer(c, header_size);
    std::istream text(&buffer);
    try {
      header = json::parse(text, check);
    } catch (const json::exception& e) {
      fail("malformed JSON header: " + io::printable(e.what(), 200));
    }
  }
  if (!header.is_object()) fail("malformed header: not a JSON object");

  tensor_file out;
  out.path = c.path();
  out.format = "safetensors";
  std::vector<entry> entries;
  for (const auto& item : header.items()) {
    // Not a structured binding: clang 14 (the fuzz build) cannot capture one in a lambda.
    const std::string& name = item.key();
    const json& v = item.value();
    if (name == "__metadata__") {
      if (!v.is_object()) fail("__metadata__ is not a JSON object");
      for (const auto& [k, value] : v.items()) {
        if (!value.is_string())
          fail("__metadata__ value of '" + io::printable(k) + "' is not a string");
        out.metadata[k] = value.get<std::string>();
      }
      continue;
    }
    const auto tfail = [&](const std::string& problem) {
      fail("tensor '" + io::printable(name) + "': " + problem);
    };
    if (!v.is_object()) tfail("its header entry is not a JSON object");
    if (!v.contains("dtype") || !v["dtype"].is_string()) tfail("no dtype");
    const std::string type = v["dtype"].get<std::string>();
    const auto t = parse_dtype(type);
    if (!t)
      tfail("dtype " + io::printable(type) +
            " is not supported (F32, F16, BF16, F64, I64, I32, U8 are)");
    if (!v.contains("shape") || !v["shape"].is_array()) tfail("no shape");
    entry e{name, *t, {}, 0, 0};
    for (const json& d : v["shape"]) e.shape.push_back(to_size(d, "a dimension", tfail));
    const json& off = v.contains("data_offsets") ? v["data_offsets"] : json();
    if (!off.is_array() || off.size() != 2) tfail("data_offsets is not a pair [begin, end]");
    e.begin = to_size(off[0], "data_offsets[0]", tfail);
    e.end = to_size(off[1], "data_offsets[1]", tfail);
    const auto bytes_needed = io::checked_count(e.shape, dtype_bytes(*t));
    if (!bytes_needed) tfail("shape " + shape_text(e.shape) + " overflows");
    if (e.end < e.begin)
      tfail("data_offsets [" + std::to_string(e.begin) + ", " + std::to_string(e.end) +
            "] end before they begin");
    if (e.end - e.begin != *bytes_needed)
      tfail("data_offsets [" + std::to_string(e.begin) + ", " + std::to_string(e.end) + "] hold " +
            std::to_string(e.end - e.begin) + " bytes, shape " + shape_text(e.shape) + " of " +
            type + " needs " + std::to_string(*bytes_needed));
    entries.push_back(std::move(e));
  }

  // The data must be exactly the tensors' byte ranges, back to back: no overlap, no gap.
  std::vector<entry*> by_offset;
  for (entry& e : entries) by_offset.push_back(&e);
  std::sort(by_offset.begin(), by_offset.end(), [](const entry* a, const entry* b) {
    return a->begin != b->begin ? a->begin < b->begin : a->end < b->end;
  });
  std::uint64_t at = 0;
  for (const entry* e : by_offset) {
    if (e->begin != at)
      fail("tensor '" + io::printable(e->name) + "': data_offsets start at " +
           std::to_string(e->begin) +
           (e->begin < at ? ", overlapping the tensor before it" : ", leaving a gap") +
           " (expected " + std::to_string(at) + ")");
    at = e->end;
  }
  // Every size checked against the file before a value is allocated.
  c.need(at, "the tensors' data");
  if (at < c.left())
    fail("trailing data: " + std::to_string(c.left() - at) + " bytes after the last tensor");

  // Each tensor read once, in the file's order, straight into its values.
  out.tensors.resize(entries.size());
  for (entry* e : by_offset) {
    named_tensor& t = out.tensors[static_cast<std::size_t>(e - entries.data())];
    t = {e->name, e->type, e->shape, {}};
    t.values.resize((e->end - e->begin) / dtype_bytes(e->type));
    c.read_floats(e->type, t.values.size(), t.values.data(),
                  "tensor '" + io::printable(e->name) + "'");
  }
  return out;
}

}  // namespace

tensor_file parse_safetensors(std::span<const std::uint8_t> bytes, const std::string& path) {
  io::cursor c(bytes, path);
  return read_from(c);
}

tensor_file read_safetensors(const std::filesystem::path& path) {
  const io::input_file file(path);
  io::cursor c(file);
  return read_from(c);
}

std::vector<std::uint8_t> serialize_safetensors(std::span<const tensor_ref> tensors,
                                                const std::map<std::string, std::string>& metadata,
                                                dtype as) {
  if (as != dtype::f32 && as != dtype::f16 && as != dtype::bf16)
    throw config_error("dtype", "kiln writes F32, F16 or BF16, not " + std::string(dtype_name(as)));
  const std::size_t width = dtype_bytes(as);
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::uint64_t offset = 0;
  for (const tensor_ref& t : tensors) {
    const auto n = io::checked_count(t.shape);
    if (!n || *n != t.values.size())
      throw config_error(t.name, "shape " + shape_text(t.shape) + " does not match its " +
                                     std::to_string(t.values.size()) + " values");
    if (header.contains(t.name) || t.name == "__metadata__")
      throw config_error(t.name, "the name is used twice");
    header[t.name] = {{"dtype", std::string(dtype_name(as))},
                      {"shape", t.shape},
                      {"data_offsets", {offset, offset + *n * width}}};
    offset += *n * width;
  }
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');  // keeps the data 8-byte aligned, as the reference

  std::vector<std::uint8_t> out(8 + text.size() + offset);
  const std::uint64_t size = text.size();
  std::memcpy(out.data(), &size, 8);
  std::memcpy(out.data() + 8, text.data(), text.size());
  std::uint8_t* at = out.data() + 8 + text.size();
  for (const tensor_ref& t : tensors) {
    for (const float v : t.values) {
      if (as == dtype::f32) {
        std::memcpy(at, &v, 4);
      } else {
        const std::uint16_t h = as == dtype::f16 ? io::float_to_half(v) : io::float_to_bfloat16(v);
        std::memcpy(at, &h, 2);
      }
      at += width;
    }
  }
  return out;
}

void write_safetensors(const std::filesystem::path& path, std::span<const tensor_ref> tensors,
                       const std::map<std::string, std::string>& metadata, dtype as) {
  const auto bytes = serialize_safetensors(tensors, metadata, as);
  io::write_file_atomically(path, bytes);
}

}  // namespace kiln::rt
