// Element-wise activations: kernels from kernels.hpp over n × size floats.
#pragma once

#include "kiln/codegen/kernels/kernels.hpp"
#include "kiln/codegen/layers/onnx.hpp"
#include "kiln/codegen/layers/op.hpp"
#include "kiln/dsl/layers/activation.hpp"

namespace kiln::codegen {

// The parts every activation shares: same shape out, and a kernel over the batch's floats, each
// member of the team taking a contiguous part.
template <dsl::shape In>
struct elementwise_op {
  static constexpr dsl::shape out = In;
  static constexpr int aux = 0;
  static constexpr bool view = false;
  template <class F>
  static void each_part(const op_args& c, F&& f) {
    parallel_for(c, std::size_t(c.n) * In.size(), 16, [&](rt::span_range r) { f(r.lo, r.size()); });
  }
};

template <dsl::relu L, dsl::shape In>
struct op<L, In> : elementwise_op<In> {
  static void forward(const op_args& c) {
    op::each_part(c, [&](auto i, auto n) { kernels::relu(c.x + i, c.y + i, n); });
  }
  static std::string to_onnx(const onnx_io& c) { return c.node("Relu", {c.x}); }
  static void backward(const op_args& c) {
    if (c.dx)
      op::each_part(
          c, [&](auto i, auto n) { kernels::relu_backward(c.y + i, c.dy + i, c.dx + i, n); });
  }
};

template <dsl::leaky_relu L, dsl::shape In>
struct op<L, In> : elementwise_op<In> {
  static void forward(const op_args& c) {
    op::each_part(c, [&](auto i, auto n) { kernels::leaky_relu(c.x + i, c.y + i, n, L.slope); });
  }
  static std::string to_onnx(const onnx_io& c) {
    return c.node("LeakyRelu", {c.x}, {attr::real("alpha", float(L.slope))});
  }
  static void backward(const op_args& c) {
    if (c.dx)
      op::each_part(c, [&](auto i, auto n) {
        kernels::leaky_relu_backward(c.x + i, c.dy + i, c.dx + i, n, L.slope);
      });
  }
};

template <dsl::tanh_ L, dsl::shape In>
struct op<L, In> : elementwise_op<In> {
  static void forward(const op_args& c) {
    op::each_part(c, [&](auto i, auto n) { kernels::tanh(c.x + i, c.y + i, n); });
  }
  static std::string to_onnx(const onnx_io& c) { return c.node("Tanh", {c.x}); }
  static void backward(const op_args& c) {
    if (c.dx)
      op::each_part(
          c, [&](auto i, auto n) { kernels::tanh_backward(c.y + i, c.dy + i, c.dx + i, n); });
  }
};

template <dsl::sigmoid L, dsl::shape In>
struct op<L, In> : elementwise_op<In> {
  static void forward(const op_args& c) {
    op::each_part(c, [&](auto i, auto n) { kernels::sigmoid(c.x + i, c.y + i, n); });
  }
  static std::string to_onnx(const onnx_io& c) { return c.node("Sigmoid", {c.x}); }
  static void backward(const op_args& c) {
    if (c.dx)
      op::each_part(
          c, [&](auto i, auto n) { kernels::sigmoid_backward(c.y + i, c.dy + i, c.dx + i, n); });
  }
};

}  // namespace kiln::codegen
