// layer_norm's kernels. Forward, per sample (each member of the team its samples): the mean and
// biased variance in double, x̂ = (x − mean)·r with r = 1/√(var + eps) kept in aux for backward,
// y = γ·x̂ + β. Backward: dγ = Σ dy·x̂ and dβ = Σ dy over the samples (each member its features,
// so no two write the same gradient and the sums run in sample order, whatever the team's size);
// dx = r·(g − mean(g) − x̂·mean(g·x̂)) with g = γ·dy, per sample.
// ONNX: opset 13 has no LayerNormalization (opset 17), so ReduceMean, Sub, Mul, Add, Sqrt, Div.
#pragma once

#include <cmath>
#include <cstdint>
#include <vector>

#include "kiln/codegen/layers/onnx.hpp"
#include "kiln/codegen/layers/op.hpp"
#include "kiln/dsl/layers/layer_norm.hpp"

namespace kiln::codegen {

template <dsl::layer_norm L, dsl::shape In>
struct op<L, In> {
  static constexpr dsl::shape out = In;
  static constexpr int aux = 2;  // per sample: its mean and r
  static constexpr bool view = false;
  static constexpr std::size_t D = std::size_t(In.size());
  static constexpr std::size_t beta = param_offsets(L, In)[1];

  static void forward(const op_args& c) {
    parallel_for(c, std::size_t(c.n), 1, [&](rt::span_range part) {
      for (std::size_t s = part.lo; s < part.hi; ++s) {
        const float* x = c.x + s * D;
        float* y = c.y + s * D;
        double sum = 0, squares = 0;
        for (std::size_t d = 0; d < D; ++d) sum += x[d];
        const double mean = sum / double(D);
        for (std::size_t d = 0; d < D; ++d) squares += (x[d] - mean) * (x[d] - mean);
        const auto m = float(mean), r = float(1 / std::sqrt(squares / double(D) + L.eps));
        c.aux[2 * s] = m;
        c.aux[2 * s + 1] = r;
        for (std::size_t d = 0; d < D; ++d) y[d] = (x[d] - m) * r * c.w[d] + c.w[beta + d];
      }
    });
  }

  static void backward(const op_args& c) {
    const auto n = std::size_t(c.n);
    parallel_for(c, D, 16, [&](rt::span_range part) {
      for (std::size_t d = part.lo; d < part.hi; ++d) c.gw[d] = c.gw[beta + d] = 0;
      for (std::size_t s = 0; s < n; ++s) {
        const float *x = c.x + s * D, *dy = c.dy + s * D;
        const float m = c.aux[2 * s], r = c.aux[2 * s + 1];
        for (std::size_t d = part.lo; d < part.hi; ++d) {
          c.gw[d] += dy[d] * ((x[d] - m) * r);
          c.gw[beta + d] += dy[d];
        }
      }
    });
    if (!c.dx) return;
    parallel_for(c, n, 1, [&](rt::span_range part) {
      for (std::size_t s = part.lo; s < part.hi; ++s) {
        const float *x = c.x + s * D, *dy = c.dy + s * D;
        const float m = c.aux[2 * s], r = c.aux[2 * s + 1];
        double sum_g = 0, sum_gx = 0;
        for (std::size_t d = 0; d < D; ++d) {
          const double g = double(dy[d]) * c.w[d];
          sum_g += g;
          sum_gx += g * ((x[d] - m) * r);
        }
        const auto mean_g = float(sum_g / double(D)), mean_gx = float(sum_gx / double(D));
        float* dx = c.dx + s * D;
        for (std::size_t d = 0; d < D; ++d)
          dx[d] = r * (dy[d] * c.w[d] - mean_g - (x[d] - m) * r * mean_gx);
      }
    });
  }

  static std::string to_onnx(const onnx_io& c) {
    std::vector<std::int64_t> axes;
    for (int k = 1; k <= In.rank; ++k) axes.push_back(k);
    const std::vector<attr> over_sample{attr::integers("axes", axes), attr::integer("keepdims", 1)};
    const auto eps = float(L.eps);
    const std::string centered = c.node("Sub", {c.x, c.node("ReduceMean", {c.x}, over_sample)});
    const std::string var =
        c.node("ReduceMean", {c.node("Mul", {centered, centered})}, over_sample);
    const std::string stddev =
        c.node("Sqrt", {c.node("Add", {var, c.g->constant({}, std::span<const float>(&eps, 1))})});
    const std::string xhat = c.node("Div", {centered, stddev});
    return c.node("Add", {c.node("Mul", {xhat, param<L, In>(c, 0)}), param<L, In>(c, 1)});
  }
};

}  // namespace kiln::codegen
