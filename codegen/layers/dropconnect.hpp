// dropconnect: a dense layer that multiplies by masked weights in training. One mask per batch
// (drawn into the layer's scratch with the masked weights beside it), the same GEMMs as dense;
// the weight gradient is masked too (∂/∂W of x·(M⊙W)ᵀ is M⊙(dyᵀ·x)). Evaluation uses W.
#pragma once

#include "kiln/codegen/gemm.hpp"
#include "kiln/codegen/kernels/arith.hpp"
#include "kiln/codegen/kernels/kernels.hpp"
#include "kiln/codegen/kernels/noise.hpp"
#include "kiln/codegen/layers/onnx.hpp"
#include "kiln/codegen/layers/op.hpp"
#include "kiln/dsl/layers/dropconnect.hpp"

namespace kiln::codegen {

template <dsl::dropconnect L, dsl::shape In>
struct op<L, In> {
  static constexpr dsl::shape out = L.out(In);
  static constexpr int aux = 0;
  static constexpr bool view = false;
  static constexpr int inputs = In.size(), units = L.units;
  static constexpr std::size_t weights = std::size_t(units) * inputs;
  static constexpr std::size_t work = 2 * aligned(weights);  // mask, masked weights
  static constexpr std::size_t bias = param_offsets(L, In)[1];

  static const float* masked(const io& c) { return c.work + aligned(weights); }

  static void forward(const io& c) {
    const float* w = c.w;
    if (c.train && L.p > 0) {
      kernels::dropout_mask(*c.rng, L.p, c.work, weights);
      kernels::mul(c.w, c.work, c.work + aligned(weights), weights);
      w = masked(c);
    }
    parallel_for(c, units, 16, [&](rt::span_range u) {
      const int lo = int(u.lo), cols = int(u.size());
      gemm_nt(c.n, cols, inputs, c.x, inputs, w + lo * inputs, inputs, c.y + lo, units);
      kernels::add_bias(c.y + lo, units, c.w + bias + lo, std::size_t(c.n), u.size());
    });
  }
  // Evaluation multiplies by the stored weights (the masks' expectation): a dense Gemm.
  static std::string to_onnx(const onnx_io& c) {
    return c.node("Gemm", {c.x, param<L, In>(c, 0), param<L, In>(c, 1)},
                  {attr::integer("transB", 1)});
  }
  static void backward(const io& c) {
    parallel_for(c, units, 1, [&](rt::span_range u) {  // dW = M ⊙ dyᵀ·x, db = Σ dy, by rows
      const int lo = int(u.lo), rows = int(u.size());
      float* gw = c.gw + lo * inputs;
      gemm_tn(rows, inputs, c.n, c.dy + lo, units, c.x, inputs, gw, inputs);
      if constexpr (L.p > 0) kernels::mul(gw, c.work + lo * inputs, gw, u.size() * inputs);
      kernels::column_sums(c.dy + lo, units, std::size_t(c.n), u.size(), c.gw + bias + lo);
    });
    if (!c.dx) return;
    const float* w = L.p > 0 ? masked(c) : c.w;
    parallel_for(c, inputs, 16, [&](rt::span_range i) {  // dx = dy·(M ⊙ W), by columns
      const int lo = int(i.lo);
      gemm_nn(c.n, int(i.size()), units, c.dy, units, w + lo, inputs, c.dx + lo, inputs);
    });
  }
};

}  // namespace kiln::codegen
