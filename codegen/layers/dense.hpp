// dense: y = x·Wᵀ + b with W [units, inputs] (PyTorch's layout), three GEMMs per step, each
// split across the team by output columns (forward, dx) or weight rows (dW, db).
#pragma once

#include "kiln/codegen/gemm.hpp"
#include "kiln/codegen/kernels/kernels.hpp"
#include "kiln/codegen/layers/onnx.hpp"
#include "kiln/codegen/layers/op.hpp"
#include "kiln/dsl/layers/dense.hpp"

namespace kiln::codegen {

template <dsl::dense L, dsl::shape In>
struct op<L, In> {
  static constexpr dsl::shape out = L.out(In);
  static constexpr int aux = 0;
  static constexpr bool view = false;
  static constexpr int inputs = In.size(), units = L.units;
  static constexpr std::size_t bias = param_offsets(L, In)[1];

  static void forward(const io& c) {
    parallel_for(c, units, 16, [&](rt::span_range u) {
      const int lo = int(u.lo), cols = int(u.size());
      gemm_nt(c.n, cols, inputs, c.x, inputs, c.w + lo * inputs, inputs, c.y + lo, units);
      kernels::add_bias(c.y + lo, units, c.w + bias + lo, std::size_t(c.n), u.size());
    });
  }

  // Gemm with the weight as stored ([units, inputs]: transB).
  static std::string to_onnx(const onnx_io& c) {
    return c.node("Gemm", {c.x, param<L, In>(c, 0), param<L, In>(c, 1)},
                  {attr::integer("transB", 1)});
  }

  static void backward(const io& c) {
    parallel_for(c, units, 1, [&](rt::span_range u) {  // dW = dyᵀ·x, db = Σ dy, by rows
      const int lo = int(u.lo), rows = int(u.size());
      gemm_tn(rows, inputs, c.n, c.dy + lo, units, c.x, inputs, c.gw + lo * inputs, inputs);
      kernels::column_sums(c.dy + lo, units, std::size_t(c.n), u.size(), c.gw + bias + lo);
    });
    if (c.dx)
      parallel_for(c, inputs, 16, [&](rt::span_range i) {  // dx = dy·W, by columns
        const int lo = int(i.lo);
        gemm_nn(c.n, int(i.size()), units, c.dy, units, c.w + lo, inputs, c.dx + lo, inputs);
      });
  }
};

}  // namespace kiln::codegen
