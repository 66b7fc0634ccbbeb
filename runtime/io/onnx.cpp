#include "kiln/runtime/io/onnx.hpp"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <onnx/onnx_pb.h>

#include <climits>
#include <limits>
#include <functional>
#include <string>

#include "kiln/runtime/error.hpp"
#include "kiln/runtime/io/bytes.hpp"
#include "kiln/runtime/io/file.hpp"

namespace kiln::rt {
namespace {

// protobuf caps a message at 2 GB; nesting is shallow in Model -> Graph -> Tensor, but a hostile
// file can nest subgraphs (If/Loop attributes) deeply: bound the recursion.
constexpr int max_message = INT_MAX;
constexpr int max_nesting = 64;

using proto = onnx::TensorProto;

std::optional<dtype> element_type(int t) {
  switch (t) {
    case proto::FLOAT:
      return dtype::f32;
    case proto::FLOAT16:
      return dtype::f16;
    case proto::BFLOAT16:
      return dtype::bf16;
    case proto::DOUBLE:
      return dtype::f64;
    case proto::INT64:
      return dtype::i64;
    case proto::INT32:
      return dtype::i32;
    case proto::UINT8:
      return dtype::u8;
    default:
      return std::nullopt;
  }
}

std::string type_name(int t) {
  return proto::DataType_IsValid(t) ? proto::DataType_Name(static_cast<proto::DataType>(t))
                                    : "type " + std::to_string(t);
}

// The values of one initializer from whichever field holds them, checked against its shape.
std::vector<float> values_of(const proto& t, dtype type, std::size_t count,
                             const std::function<void(const std::string&)>& fail) {
  std::vector<float> out;
  const auto expect = [&](std::size_t found, const char* field) {
    if (found != count)
      fail(std::string(field) + " holds " + std::to_string(found) + " values, the shape needs " +
           std::to_string(count));
  };
  if (t.has_raw_data()) {
    const std::string& raw = t.raw_data();
    const auto bytes =
        io::checked_count(std::span<const std::size_t>(&count, 1), dtype_bytes(type));
    if (!bytes || raw.size() != *bytes)
      fail("raw_data holds " + std::to_string(raw.size()) + " bytes, the shape needs " +
           (bytes ? std::to_string(*bytes) : std::string("too many")));
    out.resize(count);
    io::to_float(type, reinterpret_cast<const std::uint8_t*>(raw.data()), count, out.data());
    return out;
  }
  switch (type) {
    case dtype::f32:
      expect(t.float_data_size(), "float_data");
      out.assign(t.float_data().begin(), t.float_data().end());
      break;
    case dtype::f64:
      expect(t.double_data_size(), "double_data");
      for (double v : t.double_data()) out.push_back(static_cast<float>(v));
      break;
    case dtype::i64:
      expect(t.int64_data_size(), "int64_data");
      for (std::int64_t v : t.int64_data()) out.push_back(static_cast<float>(v));
      break;
    case dtype::f16:
    case dtype::bf16:
    case dtype::i32:
    case dtype::u8:
      // ONNX keeps these in int32_data, halves as their bit patterns.
      expect(t.int32_data_size(), "int32_data");
      for (std::int32_t v : t.int32_data()) {
        const auto bits = static_cast<std::uint16_t>(v);
        out.push_back(type == dtype::f16    ? io::half_to_float(bits)
                      : type == dtype::bf16 ? io::bfloat16_to_float(bits)
                                            : static_cast<float>(v));
      }
      break;
  }
  return out;
}

}  // namespace

namespace {

tensor_file parse_stream(google::protobuf::io::ZeroCopyInputStream& stream, std::uint64_t size,
                         const std::string& path);

}  // namespace

tensor_file read_onnx(const std::filesystem::path& path) {
  // Parsed as it is read, through the checked descriptor: protobuf has no header to check, but
  // a file that is not protobuf fails at its first bad bytes, and what it keeps is what the file
  // really holds.
  const io::input_file file(path);
  google::protobuf::io::FileInputStream stream(file.descriptor());
  return parse_stream(stream, file.size(), file.path());
}

tensor_file parse_onnx(std::span<const std::uint8_t> bytes, const std::string& path) {
  if (bytes.size() > static_cast<std::size_t>(max_message))
    throw file_error(path, "larger than the 2 GB an ONNX model (protobuf) can be");
  google::protobuf::io::ArrayInputStream stream(bytes.data(), static_cast<int>(bytes.size()));
  return parse_stream(stream, bytes.size(), path);
}

namespace {

tensor_file parse_stream(google::protobuf::io::ZeroCopyInputStream& stream, std::uint64_t size,
                         const std::string& path) {
  const auto fail = [&](const std::string& problem) { throw file_error(path, problem); };
  if (size == 0) fail("the file is empty");
  if (size > static_cast<std::uint64_t>(max_message))
    fail("larger than the 2 GB an ONNX model (protobuf) can be");
  onnx::ModelProto model;
  google::protobuf::io::CodedInputStream in(&stream);
  in.SetTotalBytesLimit(max_message);
  in.SetRecursionLimit(max_nesting);
  if (!model.ParseFromCodedStream(&in) || !in.ConsumedEntireMessage())
    fail("not a valid ONNX model (protobuf parsing failed)");
  if (!model.has_graph()) fail("not an ONNX model: it has no graph");

  tensor_file out;
  out.path = path;
  out.format = "onnx";
  if (!model.producer_name().empty())
    out.metadata["producer"] = model.producer_name() + " " + model.producer_version();
  out.metadata["ir_version"] = std::to_string(model.ir_version());
  for (const auto& opset : model.opset_import())
    out.metadata["opset" + (opset.domain().empty() ? "" : "." + opset.domain())] =
        std::to_string(opset.version());
  if (model.graph().sparse_initializer_size() > 0) fail("sparse initializers are not supported");

  for (const proto& t : model.graph().initializer()) {
    const auto tfail = [&](const std::string& problem) {
      fail("initializer '" + io::printable(t.name()) + "': " + problem);
    };
    if (t.name().empty()) fail("an initializer has no name");
    if (out.find(t.name())) tfail("the name appears twice");
    if (t.data_location() == proto::EXTERNAL) tfail("external data is not supported");
    if (t.has_segment()) tfail("segmented tensors are not supported");
    const auto type = element_type(t.data_type());
    if (!type)
      tfail("data type " + type_name(t.data_type()) +
            " is not supported (FLOAT, FLOAT16, BFLOAT16, DOUBLE, INT64, INT32, UINT8 are)");
    named_tensor nt{t.name(), *type, {}, {}};
    for (std::int64_t d : t.dims()) {
      if (d < 0) tfail("negative dimension " + std::to_string(d));
      nt.shape.push_back(static_cast<std::size_t>(d));
    }
    const auto count = io::checked_count(nt.shape);
    if (!count) tfail("shape " + shape_text(nt.shape) + " overflows");
    nt.values = values_of(t, *type, *count, tfail);
    out.tensors.push_back(std::move(nt));
  }
  return out;
}

}  // namespace

}  // namespace kiln::rt
