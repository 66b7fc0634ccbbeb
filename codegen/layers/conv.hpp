// conv2d: per sample, im2col into the layer's scratch and one GEMM with the weight
// [filters, channels·k·k] (PyTorch's layout read as a matrix); a 1×1 convolution with stride 1
// and no padding multiplies the sample itself. Backward recomputes each sample's column matrix
// (cheaper than keeping the batch's: it stays in cache) for dW += dy·colᵀ, and dx through
// dcol = Wᵀ·dy and col2im. Wᵀ is copied once per step: OpenBLAS runs NN products of these
// shapes through its unpacked small-matrix kernels, a transposed operand through the packing path.
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
  static constexpr std::size_t work = cols + std::size_t(K) * F;  // a column matrix, Wᵀ
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
    if (c.dx)
      for (int f = 0; f < F; ++f)
        for (int k = 0; k < K; ++k) wt[k * F + f] = c.w[f * K + k];
    for (int s = 0; s < c.n; ++s) {
      const float* dy = c.dy + std::size_t(s) * F * P;
      if (s == 0)
        gemm_nt(F, K, P, dy, columns(c, s), c.gw);
      else
        gemm_nt_add(F, K, P, dy, columns(c, s), c.gw);
      if (!c.dx) continue;
      float* dx = c.dx + std::size_t(s) * in_size;
      if constexpr (pointwise) {
        gemm_nn(K, P, F, wt, dy, dx);
      } else {
        gemm_nn(K, P, F, wt, dy, c.work);
        kernels::col2im(g, c.work, dx);
      }
    }
    kernels::channel_sums(c.dy, std::size_t(c.n), F, P, c.gw + bias);
  }
};

}  // namespace kiln::codegen
