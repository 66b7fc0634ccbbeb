// max_pool, avg_pool, global_avg_pool over NCHW planes. A 2×2 window with stride 2 and no
// padding runs the vectorized kernels; any other window runs the region kernels with bounds
// computed here at compile time (padding clipped away: a padded cell never wins a max, and
// counts as a zero in an average).
#pragma once

#include <array>

#include "kiln/codegen/kernels/pool.hpp"
#include "kiln/codegen/layers/onnx.hpp"
#include "kiln/codegen/layers/op.hpp"
#include "kiln/dsl/layers/pool.hpp"

namespace kiln::codegen {

// ONNX's attributes of a pooling window: floor mode, symmetric zero padding (ONNX's defaults for
// the rest). Compiled once (layers/parts.cpp), not once per layer and input shape.
std::vector<attr> pool_window(int size, int step, int pad);

// Window bounds along one axis, clipped to [0, length).
template <int Out>
struct axis_bounds {
  std::array<int, Out> lo{}, hi{};
  constexpr axis_bounds(int length, int size, int step, int pad) {
    for (int i = 0; i < Out; ++i) {
      const int start = i * step - pad;
      lo[i] = start < 0 ? 0 : start;
      hi[i] = start + size > length ? length : start + size;
    }
  }
};

// What both window pools share: shapes, the fast-path test, the bounds.
template <auto L, dsl::shape In>
struct window_pool {
  static constexpr dsl::shape out = L.out(In);
  static constexpr bool view = false;
  static constexpr int H = In.height(), W = In.width(), Ho = out.height(), Wo = out.width();
  static constexpr bool two_by_two = L.size == 2 && L.step() == 2 && L.pad == 0;
  static constexpr axis_bounds<Ho> rows{H, L.size, L.step(), L.pad};
  static constexpr axis_bounds<Wo> cols{W, L.size, L.step(), L.pad};
  static constexpr kernels::regions r{rows.lo.data(), rows.hi.data(), Ho,
                                      cols.lo.data(), cols.hi.data(), Wo};
  static std::size_t planes(const op_args& c) { return std::size_t(c.n) * In.channels(); }
  static std::vector<attr> window() { return pool_window(L.size, L.step(), L.pad); }
};

template <dsl::max_pool L, dsl::shape In>
struct op<L, In> : window_pool<L, In> {
  using base = window_pool<L, In>;
  static constexpr int aux = base::out.size();  // where each max came from

  // A padded cell never wins: ONNX pads MaxPool with −∞ too.
  static std::string to_onnx(const onnx_io& c) { return c.node("MaxPool", {c.x}, base::window()); }
  static void forward(const op_args& c) {
    if constexpr (base::two_by_two)
      kernels::max_pool_2x2(c.x, base::planes(c), base::H, base::W, c.y, c.aux);
    else
      kernels::max_pool_regions(c.x, base::planes(c), base::H, base::W, base::r, c.y, c.aux);
  }
  static void backward(const op_args& c) {
    if (!c.dx) return;
    if constexpr (base::two_by_two)
      kernels::max_pool_2x2_backward(c.aux, c.dy, base::planes(c), base::H, base::W, c.dx);
    else
      kernels::max_pool_regions_backward(c.aux, c.dy, base::planes(c), base::H, base::W, base::r,
                                         c.dx);
  }
};

template <dsl::avg_pool L, dsl::shape In>
struct op<L, In> : window_pool<L, In> {
  using base = window_pool<L, In>;
  static constexpr int aux = 0;
  static constexpr float divisor = float(L.size * L.size);

  // Padded cells count as zeros, the divisor is always size² (count_include_pad).
  static std::string to_onnx(const onnx_io& c) {
    auto a = base::window();
    a.push_back(attr::integer("count_include_pad", 1));
    return c.node("AveragePool", {c.x}, a);
  }
  static void forward(const op_args& c) {
    if constexpr (base::two_by_two)
      kernels::avg_pool_2x2(c.x, base::planes(c), base::H, base::W, c.y);
    else
      kernels::avg_pool_regions(c.x, base::planes(c), base::H, base::W, base::r, divisor, c.y);
  }
  static void backward(const op_args& c) {
    if (!c.dx) return;
    if constexpr (base::two_by_two)
      kernels::avg_pool_2x2_backward(c.dy, base::planes(c), base::H, base::W, c.dx);
    else
      kernels::avg_pool_regions_backward(c.dy, base::planes(c), base::H, base::W, base::r, divisor,
                                         c.dx);
  }
};

template <dsl::global_avg_pool L, dsl::shape In>
struct op<L, In> {
  static constexpr dsl::shape out = L.out(In);
  static constexpr int aux = 0;
  static constexpr bool view = false;
  static constexpr std::size_t plane = std::size_t(In.height()) * In.width();

  // {C, H, W} -> the flat {C}.
  static std::string to_onnx(const onnx_io& c) {
    return c.node("Flatten", {c.node("GlobalAveragePool", {c.x})}, {attr::integer("axis", 1)});
  }
  static void forward(const op_args& c) {
    kernels::global_avg_pool(c.x, std::size_t(c.n) * In.channels(), plane, c.y);
  }
  static void backward(const op_args& c) {
    if (c.dx)
      kernels::global_avg_pool_backward(c.dy, std::size_t(c.n) * In.channels(), plane, c.dx);
  }
};

}  // namespace kiln::codegen
