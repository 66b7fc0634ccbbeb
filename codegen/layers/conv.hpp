// conv2d: per sample, im2col into the layer's scratch and one GEMM with the weight
// [filters, channels·k·k] (PyTorch's layout read as a matrix); a 1×1 convolution with stride 1
// and no padding multiplies the sample itself. Backward recomputes each sample's column matrix
// (cheaper than keeping the batch's: it stays in cache) for dWᵀ += col·dyᵀ, and dx through
// dcol = Wᵀ·dy and col2im. Both products are in the forms OpenBLAS ran fastest for these shapes
// (measured: NN through its unpacked small-matrix kernels, and the transposed weight gradient
// accumulated as [k, filters]); Wᵀ is copied once per step, dWᵀ transposed back once.
#pragma once

#include "kiln/codegen/gemm.hpp"
#include "kiln/codegen/kernels/conv.hpp"
#include "kiln/codegen/layers/op.hpp"
#include "kiln/dsl/layers/conv.hpp"

namespace kiln::codegen {

template <dsl::conv2d L, dsl::shape In>
struct op<L, In> {
  static constexpr dsl::shape out = L.out(In);
  static constexpr int aux = 0;
  static constexpr bool view = false;
  static constexpr int C = In.channels(), F = L.filters, K = C * L.kernel * L.kernel;
  static constexpr int P = out.height() * out.width(), in_size = In.size();
  static constexpr bool pointwise = L.kernel == 1 && L.stride == 1 && L.pad == 0;
  static constexpr std::size_t cols = pointwise ? 0 : aligned(std::size_t(K) * P);
  static constexpr std::size_t work = cols + 2 * aligned(std::size_t(K) * F);  // col, Wᵀ, dWᵀ
  static constexpr std::size_t bias = param_offsets(L, In)[1];
  static constexpr kernels::window g{C,        In.height(), In.width(),   L.kernel,
                                     L.stride, L.pad,       out.height(), out.width()};

  static const float* columns(const io& c, int s) {
    const float* x = c.x + std::size_t(s) * in_size;
    if constexpr (pointwise) return x;
    kernels::im2col(g, x, c.work);
    return c.work;
  }

  static void forward(const io& c) {
    for (int s = 0; s < c.n; ++s) {
      float* y = c.y + std::size_t(s) * F * P;
      gemm_nn(F, P, K, c.w, columns(c, s), y);
      kernels::add_channel_bias(y, c.w + bias, 1, F, P);  // while y is in cache
    }
  }

  static void backward(const io& c) {
    float* wt = c.work + cols;
    float* gwt = wt + aligned(std::size_t(K) * F);
    if (c.dx)
      for (int f = 0; f < F; ++f)
        for (int k = 0; k < K; ++k) wt[k * F + f] = c.w[f * K + k];
    for (int s = 0; s < c.n; ++s) {
      const float* dy = c.dy + std::size_t(s) * F * P;
      if (s == 0)
        gemm_nt(K, F, P, columns(c, s), dy, gwt);
      else
        gemm_nt_add(K, F, P, columns(c, s), dy, gwt);
      if (!c.dx) continue;
      float* dx = c.dx + std::size_t(s) * in_size;
      if constexpr (pointwise) {
        gemm_nn(K, P, F, wt, dy, dx);
      } else {
        gemm_nn(K, P, F, wt, dy, c.work);
        kernels::col2im(g, c.work, dx);
      }
    }
    for (int f = 0; f < F; ++f)
      for (int k = 0; k < K; ++k) c.gw[f * K + k] = gwt[k * F + f];
    kernels::channel_sums(c.dy, std::size_t(c.n), F, P, c.gw + bias);
  }
};

}  // namespace kiln::codegen
