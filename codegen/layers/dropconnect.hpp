// dropconnect: a dense layer that multiplies by masked weights in training. One mask per batch
// (drawn into the layer's scratch with the masked weights beside it), the same products as dense
// (layers/dense.hpp); the weight gradient is masked too (∂/∂W of x·(M⊙W)ᵀ is M⊙(dyᵀ·x)).
// Evaluation uses W. bf16 plans round the masked weights once per step.
#pragma once

#include "kiln/codegen/kernels/arith.hpp"
#include "kiln/codegen/kernels/kernels.hpp"
#include "kiln/codegen/kernels/noise.hpp"
#include "kiln/codegen/layers/dense.hpp"
#include "kiln/codegen/layers/onnx.hpp"
#include "kiln/codegen/layers/op.hpp"
#include "kiln/dsl/layers/dropconnect.hpp"

namespace kiln::codegen {

struct dropconnect_prims : dense_prims {
  std::vector<std::uint16_t> masked;  // bf16: the masked weights
  dropconnect_prims(const engine::setup& s, long inputs, long units)
      : dense_prims(s, inputs, units), masked(half ? std::size_t(inputs * units) : 0) {}
};

template <dsl::dropconnect L, dsl::shape In>
struct op<L, In> {
  static constexpr dsl::shape out = L.out(In);
  static constexpr int aux = 0;
  static constexpr bool view = false;
  static constexpr int inputs = In.size(), units = L.units;
  static constexpr std::size_t weights = std::size_t(units) * inputs;
  static constexpr std::size_t work = 2 * aligned(weights);  // mask, masked weights
  static constexpr std::size_t bias = param_offsets(L, In)[1];

  static engine::holder prepare(const engine::setup& s) {
    return engine::hold<dropconnect_prims>(s, inputs, units);
  }
  static const float* masked(const op_args& c) { return c.work + aligned(weights); }
  // The weights the products read: W or M ⊙ W, f32 or bf16.
  static const void* used(const op_args& c, dropconnect_prims& p, bool mask) {
    if (!p.half) return mask ? masked(c) : c.w;
    if (!mask) return c.wh;
    if (p.masked.empty()) return c.wh;
    return p.masked.data();
  }

  static void forward(const op_args& c) {
    auto& p = *static_cast<dropconnect_prims*>(c.prims);
    const bool mask = c.train && L.p > 0;
    if (mask) {
      kernels::dropout_mask(*c.rng, L.p, c.work, weights);
      kernels::mul(c.w, c.work, c.work + aligned(weights), weights);
      if (p.half) engine::to_bf16(masked(c), p.masked.data(), weights);
    }
    const void* x = c.x;
    if (p.half) {
      engine::to_bf16(c.x, p.xh.data(), std::size_t(c.n) * inputs);
      x = p.xh.data();
    }
    const void* w = used(c, p, mask);
    engine::claim(c.team, p.forward.count(),
                  [&](int m, long j) { p.forward.run(m, j, x, w, c.y, c.w + bias, c.n); });
  }
  // Evaluation multiplies by the stored weights (the masks' expectation): a dense Gemm.
  static std::string to_onnx(const onnx_io& c) {
    return c.node("Gemm", {c.x, param<L, In>(c, 0), param<L, In>(c, 1)},
                  {attr::integer("transB", 1)});
  }
  static void backward(const op_args& c) {
    auto& p = *static_cast<dropconnect_prims*>(c.prims);
    const void* dy = c.dy;
    const void* x = c.x;
    if (p.half) {
      engine::to_bf16(c.dy, p.dyh.data(), std::size_t(c.n) * units);
      dy = p.dyh.data(), x = p.xh.data();
    }
    engine::claim(c.team, p.dw.count(), [&](int m, long j) {  // dW = M ⊙ dyᵀ·x, db = Σ dy
      const long lo = p.dw.lo(j), rows = p.dw.len(j);
      p.dw.run(m, j, dy, x, c.gw, nullptr, c.n);
      float* gw = c.gw + lo * inputs;
      if constexpr (L.p > 0) kernels::mul(gw, c.work + lo * inputs, gw, std::size_t(rows) * inputs);
      kernels::column_sums(c.dy + lo, units, std::size_t(c.n), std::size_t(rows), c.gw + bias + lo);
    });
    if (!c.dx) return;
    const void* w = used(c, p, L.p > 0);
    engine::claim(c.team, p.dx.count(),
                  [&](int m, long j) { p.dx.run(m, j, dy, w, c.dx, nullptr, c.n); });
  }
};

}  // namespace kiln::codegen
