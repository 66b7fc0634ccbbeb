// Element-wise activations: kernels from kernels.hpp over n × size floats.
#pragma once

#include "kiln/codegen/kernels/kernels.hpp"
#include "kiln/codegen/layers/op.hpp"
#include "kiln/dsl/layers/activation.hpp"

namespace kiln::codegen {

// The parts every activation shares; F and B are its forward and backward kernels.
template <dsl::shape In>
struct elementwise_op {
  static constexpr dsl::shape out = In;
  static constexpr int aux = 0;
  static constexpr bool view = false;
  static constexpr std::size_t count(const io& c) { return std::size_t(c.n) * In.size(); }
};

template <dsl::relu L, dsl::shape In>
struct op<L, In> : elementwise_op<In> {
  static void forward(const io& c) { kernels::relu(c.x, c.y, op::count(c)); }
  static void backward(const io& c) {
    if (c.dx) kernels::relu_backward(c.y, c.dy, c.dx, op::count(c));
  }
};

template <dsl::leaky_relu L, dsl::shape In>
struct op<L, In> : elementwise_op<In> {
  static void forward(const io& c) { kernels::leaky_relu(c.x, c.y, op::count(c), L.slope); }
  static void backward(const io& c) {
    if (c.dx) kernels::leaky_relu_backward(c.x, c.dy, c.dx, op::count(c), L.slope);
  }
};

template <dsl::tanh_ L, dsl::shape In>
struct op<L, In> : elementwise_op<In> {
  static void forward(const io& c) { kernels::tanh(c.x, c.y, op::count(c)); }
  static void backward(const io& c) {
    if (c.dx) kernels::tanh_backward(c.y, c.dy, c.dx, op::count(c));
  }
};

template <dsl::sigmoid L, dsl::shape In>
struct op<L, In> : elementwise_op<In> {
  static void forward(const io& c) { kernels::sigmoid(c.x, c.y, op::count(c)); }
  static void backward(const io& c) {
    if (c.dx) kernels::sigmoid_backward(c.y, c.dy, c.dx, op::count(c));
  }
};

}  // namespace kiln::codegen
