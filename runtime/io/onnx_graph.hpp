// Building an ONNX graph without protobuf in sight: each layer op writes its evaluation-mode
// computation through this interface (codegen/layers/*.hpp, `to_onnx`), and
// runtime/io/onnx_export.cpp turns it into a ModelProto. Opset 13.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <variant>
#include <vector>

namespace kiln::rt {

// One attribute of a node: an integer, a float or a list of integers.
struct onnx_attribute {
  std::string name;
  std::variant<std::int64_t, float, std::vector<std::int64_t>> value;

  static onnx_attribute integer(std::string n, std::int64_t v) { return {std::move(n), v}; }
  static onnx_attribute real(std::string n, float v) { return {std::move(n), v}; }
  static onnx_attribute integers(std::string n, std::vector<std::int64_t> v) {
    return {std::move(n), std::move(v)};
  }
};

class onnx_graph {
 public:
  virtual ~onnx_graph() = default;

  // A tensor of the model (weights, running statistics) as an initializer named `name` -- the
  // name kiln gives it, so that the file imports back (rt::load_weights reads initializers).
  // Returns the name.
  virtual std::string weight(const std::string& name, std::span<const std::int64_t> shape,
                             std::span<const float> values) = 0;
  // A constant the computation needs (indices, a scale): a Constant node, not an initializer.
  // Returns the name of its output.
  virtual std::string constant(std::span<const std::int64_t> shape,
                               std::span<const float> values) = 0;
  virtual std::string constant(std::span<const std::int64_t> shape,
                               std::span<const std::int64_t> values) = 0;
  // A node of `op` (opset 13) on `inputs`; returns the name of its one output, made unique from
  // `hint` (the layer's name).
  virtual std::string node(const std::string& op, const std::vector<std::string>& inputs,
                           const std::vector<onnx_attribute>& attributes,
                           const std::string& hint) = 0;
};

}  // namespace kiln::rt
