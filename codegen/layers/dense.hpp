// dense: y = x·Wᵀ + b with W [units, inputs] (PyTorch's layout), three products per step through
// the compute engine (codegen/engine), each cut into chunks the team claims: forward (bias added
// by the product) and dx by output columns, dW (and db beside it) by weight rows. No chunk
// splits a sum, so the result does not depend on which member ran it. bf16 plans: x and dy are
// rounded to bf16 once per step into the op's engine objects, W comes from the bf16 copy the
// fused update writes; the products accumulate in f32.
#pragma once

#include <vector>

#include "kiln/codegen/engine/ops.hpp"
#include "kiln/codegen/kernels/kernels.hpp"
#include "kiln/codegen/layers/onnx.hpp"
#include "kiln/codegen/layers/op.hpp"
#include "kiln/dsl/layers/dense.hpp"

namespace kiln::codegen {

// The three products of a dense layer (inputs → units) and its bf16 copies of x and dy; `w` in
// the products is W as stored ([units, inputs]) or its masked copy (dropconnect).
struct dense_prims {
  engine::split_product forward, dw, dx;
  bool half = false;
  std::vector<std::uint16_t> xh, dyh;
  dense_prims(const engine::setup& s, long inputs, long units);  // layers/parts.cpp
};

template <dsl::dense L, dsl::shape In>
struct op<L, In> {
  static constexpr dsl::shape out = L.out(In);
  static constexpr int aux = 0;
  static constexpr bool view = false;
  static constexpr int inputs = In.size(), units = L.units;
  static constexpr std::size_t bias = param_offsets(L, In)[1];

  static engine::holder prepare(const engine::setup& s) {
    return engine::hold<dense_prims>(s, inputs, units);
  }

  static void forward(const op_args& c) {
    auto& p = *static_cast<dense_prims*>(c.prims);
    const void* x = c.x;
    const void* w = c.w;
    if (p.half) {
      engine::to_bf16(c.x, p.xh.data(), std::size_t(c.n) * inputs);
      x = p.xh.data(), w = c.wh;
    }
    engine::claim(c.team, p.forward.count(),
                  [&](int m, long j) { p.forward.run(m, j, x, w, c.y, c.w + bias, c.n); });
  }

  // Gemm with the weight as stored ([units, inputs]: transB).
  static std::string to_onnx(const onnx_io& c) {
    return c.node("Gemm", {c.x, param<L, In>(c, 0), param<L, In>(c, 1)},
                  {attr::integer("transB", 1)});
  }

  static void backward(const op_args& c) {
    auto& p = *static_cast<dense_prims*>(c.prims);
    const void* dy = c.dy;
    const void* x = c.x;
    const void* w = c.w;
    if (p.half) {  // x was rounded by forward
      engine::to_bf16(c.dy, p.dyh.data(), std::size_t(c.n) * units);
      dy = p.dyh.data(), x = p.xh.data(), w = c.wh;
    }
    engine::claim(c.team, p.dw.count(), [&](int m, long j) {  // dW = dyᵀ·x and db = Σ dy by rows
      p.dw.run(m, j, dy, x, c.gw, nullptr, c.n);
      kernels::column_sums(c.dy + p.dw.lo(j), units, std::size_t(c.n), std::size_t(p.dw.len(j)),
                           c.gw + bias + p.dw.lo(j));
    });
    if (c.dx)
      engine::claim(c.team, p.dx.count(),
                    [&](int m, long j) { p.dx.run(m, j, dy, w, c.dx, nullptr, c.n); });
  }
};

}  // namespace kiln::codegen
