// fractional_max_pool: the regions of each axis come from u, drawn per batch in training; at
// evaluation they are the expected ones (below). The region max kernel records where each max
// came from for the backward pass, which therefore needs no regions.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>

#include "kiln/codegen/kernels/pool.hpp"
#include "kiln/codegen/layers/onnx.hpp"
#include "kiln/codegen/layers/op.hpp"
#include "kiln/dsl/layers/fractional_max_pool.hpp"

namespace kiln::codegen {

// Graham's pseudo-random boundaries a_i = ceil(α(i + u)) − ceil(αu), α = n_in / n_out, and the
// regions [a_i, a_(i+1)) or, overlapping, [a_i, a_(i+1)] (clipped to the axis). Evaluation uses
// the boundaries nearest their expectation over u ~ U[0, 1):
//   E[a_i] = αi + (S(αi + α) − S(αi) − S(α)) / α,  S(t) = ∫₀ᵗ (ceil τ − τ) dτ = ⌊t⌋/2 + f − f²/2
// (f the fractional part of t), so that evaluation sees the average training region, not one
// biased draw.
template <int Out>
struct fractional_axis {
  std::array<int, Out> lo{}, hi{};

  // u in [0, 1): a training draw; u < 0: the expected boundaries.
  fractional_axis(int n_in, double u, bool overlapping) {
    const double alpha = double(n_in) / Out;
    auto S = [](double t) {
      const double n = std::floor(t), f = t - n;
      return n / 2 + f - f * f / 2;
    };
    auto boundary = [&](int i) {
      if (i <= 0) return 0;
      if (i >= Out) return n_in;  // exact, whatever the rounding
      const double a =
          u >= 0 ? std::ceil(alpha * (i + u)) - std::ceil(alpha * u)
                 : std::round(alpha * i + (S(alpha * i + alpha) - S(alpha * i) - S(alpha)) / alpha);
      return std::clamp(int(a), 0, n_in);
    };
    for (int i = 0; i < Out; ++i) {
      lo[i] = boundary(i);
      hi[i] = std::clamp(boundary(i + 1) + (overlapping ? 1 : 0), lo[i] + 1, n_in);
    }
  }
};

// One axis of the evaluation regions in ONNX (see op::to_onnx). Compiled once
// (layers/parts.cpp), not once per layer and input shape.
std::string fractional_pool_along(const onnx_io& c, const std::string& x, const int* lo,
                                  const int* hi, int n, int axis);

template <dsl::fractional_max_pool L, dsl::shape In>
struct op<L, In> {
  static constexpr dsl::shape out = L.out(In);
  static constexpr int aux = out.size();  // where each max came from
  static constexpr bool view = false;
  static constexpr int H = In.height(), W = In.width(), Ho = out.height(), Wo = out.width();

  static void forward(const op_args& c) {
    const double u_rows = c.train ? c.rng->uniform() : -1;
    const double u_cols = c.train ? c.rng->uniform() : -1;
    const fractional_axis<Ho> rows(H, u_rows, L.overlapping);
    const fractional_axis<Wo> cols(W, u_cols, L.overlapping);
    const kernels::regions r{rows.lo.data(), rows.hi.data(), Ho,
                             cols.lo.data(), cols.hi.data(), Wo};
    kernels::max_pool_regions(c.x, std::size_t(c.n) * In.channels(), H, W, r, c.y, c.aux);
  }
  // The evaluation regions, fixed: max is separable, so rows then columns. Along an axis, output
  // i is the max of Gather(x, idx_k)[i] over k, idx_k[i] = min(lo_i + k, hi_i − 1) for k below
  // the longest region (a shorter region repeats its last index, which changes no max).
  static std::string to_onnx(const onnx_io& c) {
    const fractional_axis<Ho> rows(H, -1, L.overlapping);
    const fractional_axis<Wo> cols(W, -1, L.overlapping);
    std::string y = fractional_pool_along(c, c.x, rows.lo.data(), rows.hi.data(), Ho, 2);
    return fractional_pool_along(c, y, cols.lo.data(), cols.hi.data(), Wo, 3);
  }
  static void backward(const op_args& c) {
    if (!c.dx) return;
    const kernels::regions r{nullptr, nullptr, Ho, nullptr, nullptr, Wo};
    kernels::max_pool_regions_backward(c.aux, c.dy, std::size_t(c.n) * In.channels(), H, W, r,
                                       c.dx);
  }
};

}  // namespace kiln::codegen
