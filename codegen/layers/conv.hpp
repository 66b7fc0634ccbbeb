// conv2d: per sample, im2col into the layer's scratch and one GEMM with the weight
// [filters, channels·k·k] (PyTorch's layout read as a matrix); a 1×1 convolution with stride 1
// and no padding multiplies the sample itself. Backward recomputes each sample's column matrix
// (cheaper than keeping the batch's: it stays in cache) for dWᵀ += col·dyᵀ, and dx through
// dcol = Wᵀ·dy and col2im. Both products are in the forms OpenBLAS ran fastest for these shapes
// (measured: NN through its unpacked small-matrix kernels, and the transposed weight gradient
// accumulated as [k, filters]); Wᵀ is copied once per step, dWᵀ transposed back once.
// conv2d_relu (codegen/lower.hpp) is the same op with the following ReLU applied per sample.
#pragma once

#include "kiln/codegen/gemm.hpp"
#include "kiln/codegen/kernels/conv.hpp"
#include "kiln/codegen/layers/op.hpp"
#include "kiln/codegen/lower.hpp"
#include "kiln/dsl/layers/conv.hpp"

namespace kiln::codegen {

template <dsl::conv2d L, dsl::shape In, bool Relu>
struct conv_op {
  static constexpr dsl::shape out = L.out(In);
  static constexpr int aux = 0;
  static constexpr bool view = false;
  static constexpr int C = In.channels(), F = L.filters, K = C * L.kernel * L.kernel;
  static constexpr int P = out.height() * out.width(), in_size = In.size();
  static constexpr bool pointwise = L.kernel == 1 && L.stride == 1 && L.pad == 0;
  static constexpr std::size_t cols = pointwise ? 0 : aligned(std::size_t(K) * P);
  static constexpr std::size_t weights = aligned(std::size_t(K) * F);
  static constexpr std::size_t masked = Relu ? aligned(std::size_t(F) * P) : 0;
  static constexpr std::size_t work = cols + 2 * weights + masked;  // col, Wᵀ, dWᵀ, masked dy
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
      if constexpr (Relu)  // while y is in cache
        kernels::add_channel_bias_relu(y, c.w + bias, F, P);
      else
        kernels::add_channel_bias(y, c.w + bias, 1, F, P);
    }
  }

  static void backward(const io& c) {
    float* wt = c.work + cols;
    float* gwt = wt + weights;
    if (c.dx)
      for (int f = 0; f < F; ++f)
        for (int k = 0; k < K; ++k) wt[k * F + f] = c.w[f * K + k];
    if constexpr (Relu)
      for (int f = 0; f < F; ++f) c.gw[bias + f] = 0;
    for (int s = 0; s < c.n; ++s) {
      const float* dy = c.dy + std::size_t(s) * F * P;
      if constexpr (Relu) {  // the ReLU's backward and the bias gradient, in cache
        float* m = gwt + weights;
        kernels::relu_mask_sums(c.y + std::size_t(s) * F * P, dy, F, P, m, c.gw + bias);
        dy = m;
      }
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
    if constexpr (!Relu) kernels::channel_sums(c.dy, std::size_t(c.n), F, P, c.gw + bias);
  }
};

template <dsl::conv2d L, dsl::shape In>
struct op<L, In> : conv_op<L, In, false> {};

template <conv2d_relu L, dsl::shape In>
struct op<L, In> : conv_op<L.conv, In, true> {};

// The ReLU a conv2d_relu already applied: its output is the conv's.
template <absorbed L, dsl::shape In>
struct op<L, In> {
  static constexpr dsl::shape out = In;
  static constexpr int aux = 0;
  static constexpr bool view = true;
  static void forward(const io&) {}
  static void backward(const io&) {}
};

}  // namespace kiln::codegen
