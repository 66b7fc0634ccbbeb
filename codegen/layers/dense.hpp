// dense: y = x·Wᵀ + b with W [units, inputs] (PyTorch's layout), three GEMMs per step.
#pragma once

#include "kiln/codegen/gemm.hpp"
#include "kiln/codegen/kernels/kernels.hpp"
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
    gemm_nt(c.n, units, inputs, c.x, c.w, c.y);
    kernels::add_bias(c.y, c.w + bias, std::size_t(c.n), units);
  }
  static void backward(const io& c) {
    gemm_tn(units, inputs, c.n, c.dy, c.x, c.gw);  // dW = dyᵀ·x
    kernels::column_sums(c.dy, std::size_t(c.n), units, c.gw + bias);
    if (c.dx) gemm_nn(c.n, inputs, units, c.dy, c.w, c.dx);  // dx = dy·W
  }
};

}  // namespace kiln::codegen
