// dropout: the mask (0 or 1/(1 − p) per value) is drawn in training and kept in aux for the
// backward pass; evaluation copies.
#pragma once

#include <cstring>

#include "kiln/codegen/kernels/arith.hpp"
#include "kiln/codegen/kernels/noise.hpp"
#include "kiln/codegen/layers/onnx.hpp"
#include "kiln/codegen/layers/op.hpp"
#include "kiln/dsl/layers/dropout.hpp"

namespace kiln::codegen {

template <dsl::dropout L, dsl::shape In>
struct op<L, In> {
  static constexpr dsl::shape out = In;
  static constexpr int aux = In.size();  // the mask
  static constexpr bool view = false;

  static void forward(const op_args& c) {
    const std::size_t n = std::size_t(c.n) * In.size();
    if (!c.train || L.p == 0) {
      std::memcpy(c.y, c.x, n * sizeof(float));
      return;
    }
    // Data-parallel: this rank's samples' part of the whole batch's mask.
    kernels::dropout_mask(*c.rng, L.p, c.aux, std::size_t(c.offset) * In.size(), n,
                          std::size_t(c.global()) * In.size());
    kernels::mul(c.x, c.aux, c.y, n);
  }
  // Evaluation is the identity: no node.
  static std::string to_onnx(const onnx_io& c) { return c.x; }
  static void backward(const op_args& c) {
    if (!c.dx) return;
    const std::size_t n = std::size_t(c.n) * In.size();
    if constexpr (L.p == 0)
      std::memcpy(c.dx, c.dy, n * sizeof(float));
    else
      kernels::mul(c.dy, c.aux, c.dx, n);
  }
};

}  // namespace kiln::codegen
