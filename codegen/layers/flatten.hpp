// flatten: a view. The trainer aliases its output to its input and its dx to its dy.
#pragma once

#include "kiln/codegen/layers/onnx.hpp"
#include "kiln/codegen/layers/op.hpp"
#include "kiln/dsl/layers/flatten.hpp"

namespace kiln::codegen {

template <dsl::flatten L, dsl::shape In>
struct op<L, In> {
  static constexpr dsl::shape out = L.out(In);
  static constexpr int aux = 0;
  static constexpr bool view = true;
  static void forward(const op_args&) {}
  static void backward(const op_args&) {}
  // [N, C, H, W] -> [N, C·H·W] in the same (PyTorch's) order.
  static std::string to_onnx(const onnx_io& c) {
    return c.node("Flatten", {c.x}, {attr::integer("axis", 1)});
  }
};

}  // namespace kiln::codegen
