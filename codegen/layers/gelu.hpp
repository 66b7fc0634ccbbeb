// gelu's kernels: y = x/2·(1 + erf(x/√2)); dy/dx = Φ(x) + x·φ(x), φ(x) = e^(−x²/2)/√(2π).
// One element at a time with the C library's erff and expf, each member of the team on its part
// of the batch (the vectorized activations are kernels.hpp's; GELU is not on a hot path here).
// ONNX: opset 13 has Erf, so the same formula as nodes.
#pragma once

#include <cmath>

#include "kiln/codegen/layers/activation.hpp"
#include "kiln/codegen/layers/onnx.hpp"
#include "kiln/codegen/layers/op.hpp"
#include "kiln/dsl/layers/gelu.hpp"

namespace kiln::codegen {

template <dsl::gelu L, dsl::shape In>
struct op<L, In> : elementwise_op<In> {
  static constexpr float inv_sqrt2 = 0.70710678118654752f;
  static constexpr float inv_sqrt_2pi = 0.39894228040143268f;

  static void forward(const op_args& c) {
    op::each_part(c, [&](std::size_t i, std::size_t n) {
      for (std::size_t k = i; k < i + n; ++k)
        c.y[k] = 0.5f * c.x[k] * (1.0f + std::erf(c.x[k] * inv_sqrt2));
    });
  }
  static void backward(const op_args& c) {
    if (c.dx)
      op::each_part(c, [&](std::size_t i, std::size_t n) {
        for (std::size_t k = i; k < i + n; ++k) {
          const float x = c.x[k];
          const float cdf = 0.5f * (1.0f + std::erf(x * inv_sqrt2));
          const float pdf = inv_sqrt_2pi * std::exp(-0.5f * x * x);
          c.dx[k] = c.dy[k] * (cdf + x * pdf);
        }
      });
  }
  static std::string to_onnx(const onnx_io& c) {
    auto scalar = [&](float v) { return c.g->constant({}, std::span<const float>(&v, 1)); };
    const std::string e = c.node("Erf", {c.node("Mul", {c.x, scalar(inv_sqrt2)})});
    const std::string half_x = c.node("Mul", {c.x, scalar(0.5f)});
    return c.node("Mul", {half_x, c.node("Add", {e, scalar(1.0f)})});
  }
};

}  // namespace kiln::codegen
