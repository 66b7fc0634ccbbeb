// What a layer op's `to_onnx` sees: where its input is in the graph, its name (its tensors are
// "<name>.<tensor>", as tensors() names them), its parameters and buffers. Each op writes its
// evaluation-mode computation beside its kernels:
//   static std::string to_onnx(const onnx_io& c);   // returns the name of its output
// An op without it cannot be exported: export_op() refuses it with one line naming the layer.
// The graph is type-erased (runtime/io/onnx_graph.hpp): no protobuf in a layer header.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "kiln/codegen/layers/op.hpp"
#include "kiln/dsl/model.hpp"
#include "kiln/core/error.hpp"
#include "kiln/runtime/io/onnx_graph.hpp"

namespace kiln::codegen {

using attr = rt::onnx_attribute;

struct onnx_io {
  rt::onnx_graph* g = nullptr;
  std::string x;               // the input tensor's name in the graph
  std::string name;            // the layer's name: "fc1", "3", "block.0" inside a residual block
  const float* w = nullptr;    // its parameters, at param_offsets()
  const float* buf = nullptr;  // its buffers, at buffer_offsets()

  std::string node(const std::string& op, const std::vector<std::string>& inputs,
                   const std::vector<attr>& attributes = {}) const;
  // The tensor `spec` of this layer, its floats at `at`, as an initializer "<name>.<its name>".
  std::string initializer(const dsl::param& spec, const float* at) const;
};

inline std::vector<std::int64_t> dims_of(const dsl::shape& s) { return {s.d, s.d + s.rank}; }

// Parameter k of layer L (input In) as an initializer "<name>.<its name>".
template <auto L, dsl::shape In>
std::string param(const onnx_io& c, std::size_t k) {
  static constexpr auto specs = dsl::params_of(L, In);
  static constexpr auto offsets = param_offsets(L, In);
  return c.initializer(specs[k], c.w + offsets[k]);
}
// Buffer k (running statistics) likewise.
template <auto L, dsl::shape In>
std::string buffer(const onnx_io& c, std::size_t k) {
  static constexpr auto specs = dsl::buffers_of(L, In);
  static constexpr auto offsets = buffer_offsets(L, In);
  return c.initializer(specs[k], c.buf + offsets[k]);
}

// The refusal of a layer without an ONNX form.
[[noreturn]] void no_onnx_form(const onnx_io& c, std::string_view kind);

// Op's export, or a one-line refusal naming the layer (`kind`: the DSL descriptor's).
template <class Op>
std::string export_op(const onnx_io& c, std::string_view kind) {
  if constexpr (requires { Op::to_onnx(c); })
    return Op::to_onnx(c);
  else
    no_onnx_form(c, kind);
}

}  // namespace kiln::codegen
