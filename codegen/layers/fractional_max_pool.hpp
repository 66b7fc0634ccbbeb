// fractional_max_pool: the regions of each axis come from u (drawn per batch in training, 0.5 at
// evaluation); the region max kernel records where each max came from for the backward pass,
// which therefore needs no regions.
#pragma once

#include <array>
#include <cmath>

#include "kiln/codegen/kernels/pool.hpp"
#include "kiln/codegen/layers/op.hpp"
#include "kiln/dsl/layers/fractional_max_pool.hpp"

namespace kiln::codegen {

// Graham's pseudo-random boundaries a_i = ceil(α(i + u)) − ceil(αu), α = n_in / n_out, and the
// regions [a_i, a_(i+1)) or, overlapping, [a_i, a_(i+1)] (clipped to the axis).
template <int Out>
struct fractional_axis {
  std::array<int, Out> lo{}, hi{};
  fractional_axis(int n_in, double u, bool overlapping) {
    const double alpha = double(n_in) / Out;
    const double first = std::ceil(alpha * u);
    auto boundary = [&](int i) {
      if (i >= Out) return n_in;  // exact, whatever the rounding
      const int a = int(std::ceil(alpha * (i + u)) - first);
      return a < n_in ? a : n_in;
    };
    for (int i = 0; i < Out; ++i) {
      lo[i] = boundary(i);
      hi[i] = boundary(i + 1) + (overlapping ? 1 : 0);
      if (hi[i] > n_in) hi[i] = n_in;
    }
  }
};

template <dsl::fractional_max_pool L, dsl::shape In>
struct op<L, In> {
  static constexpr dsl::shape out = L.out(In);
  static constexpr int aux = out.size();  // where each max came from
  static constexpr bool view = false;
  static constexpr int H = In.height(), W = In.width(), Ho = out.height(), Wo = out.width();

  static void forward(const io& c) {
    const double u_rows = c.train ? c.rng->uniform() : 0.5;
    const double u_cols = c.train ? c.rng->uniform() : 0.5;
    const fractional_axis<Ho> rows(H, u_rows, L.overlapping);
    const fractional_axis<Wo> cols(W, u_cols, L.overlapping);
    const kernels::regions r{rows.lo.data(), rows.hi.data(), Ho,
                             cols.lo.data(), cols.hi.data(), Wo};
    kernels::max_pool_regions(c.x, std::size_t(c.n) * In.channels(), H, W, r, c.y, c.aux);
  }
  static void backward(const io& c) {
    if (!c.dx) return;
    const kernels::regions r{nullptr, nullptr, Ho, nullptr, nullptr, Wo};
    kernels::max_pool_regions_backward(c.aux, c.dy, std::size_t(c.n) * In.channels(), H, W, r,
                                       c.dx);
  }
};

}  // namespace kiln::codegen
