// What of the layers' ops does not depend on a layer's shape -- the engine objects of dense
// layers, the ONNX nodes of convolutions and pools -- compiled once here instead of in every
// trainer's translation unit (once per TU, or per layer and shape).
#include <algorithm>

#include "kiln/codegen/layers/conv.hpp"
#include "kiln/codegen/layers/dense.hpp"
#include "kiln/codegen/layers/fractional_max_pool.hpp"
#include "kiln/codegen/layers/pool.hpp"

namespace kiln::codegen {

dense_prims::dense_prims(const engine::setup& s, long inputs, long units)
    : half(s.in == engine::precision::bf16) {
  using engine::along;
  engine::product f;  // y[n×units] = x[n×inputs]·Wᵀ + b
  f.n = units, f.k = inputs, f.a_row = inputs, f.b_row = 1, f.b_col = inputs, f.c_row = units;
  f.bias = true;
  forward = engine::split_product(f, along::n, 16, s);
  engine::product g;  // dW[units×inputs] = dyᵀ·x
  g.m = units, g.n = inputs, g.a_row = 1, g.a_col = units, g.b_row = inputs, g.c_row = inputs;
  dw = engine::split_product(g, along::m, 1, s);
  engine::product d;  // dx[n×inputs] = dy·W
  d.n = inputs, d.k = units, d.a_row = units, d.b_row = inputs, d.c_row = inputs;
  dx = engine::split_product(d, along::n, 16, s);
  if (half) xh.resize(std::size_t(s.batch) * inputs), dyh.resize(std::size_t(s.batch) * units);
}

std::string conv_onnx(const onnx_io& c, const std::string& weight, const std::string& bias,
                      const dsl::conv2d& l, then t) {
  std::string y = c.node("Conv", {c.x, weight, bias},
                         {attr::integers("kernel_shape", {l.kernel, l.kernel}),
                          attr::integers("strides", {l.stride, l.stride}),
                          attr::integers("pads", {l.pad, l.pad, l.pad, l.pad})});
  if (t != then::nothing) y = c.node("Relu", {y});
  if (t == then::relu_pool)
    y = c.node("MaxPool", {y},
               {attr::integers("kernel_shape", {2, 2}), attr::integers("strides", {2, 2})});
  return y;
}

std::vector<attr> pool_window(int size, int step, int pad) {
  return {attr::integers("kernel_shape", {size, size}), attr::integers("strides", {step, step}),
          attr::integers("pads", {pad, pad, pad, pad})};
}

std::string fractional_pool_along(const onnx_io& c, const std::string& x, const int* lo,
                                  const int* hi, int n, int axis) {
  int longest = 0;
  for (int i = 0; i < n; ++i) longest = std::max(longest, hi[i] - lo[i]);
  std::vector<std::string> picks;
  for (int k = 0; k < longest; ++k) {
    std::vector<std::int64_t> idx(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) idx[std::size_t(i)] = std::min(lo[i] + k, hi[i] - 1);
    const std::int64_t len = n;
    picks.push_back(
        c.node("Gather", {x, c.g->constant({&len, 1}, idx)}, {attr::integer("axis", axis)}));
  }
  return picks.size() == 1 ? picks[0] : c.node("Max", picks);
}

}  // namespace kiln::codegen
