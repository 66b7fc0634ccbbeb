// conv2d: per sample, im2col into the layer's scratch and one GEMM with the weight
// [filters, channels·k·k] (PyTorch's layout read as a matrix); a 1×1 convolution with stride 1
// and no padding multiplies the sample itself. Backward recomputes each sample's column matrix
// (cheaper than keeping the batch's: it stays in cache) for dWᵀ += col·dyᵀ, and dx through
// dcol = Wᵀ·dy and col2im. Both products are in the forms OpenBLAS ran fastest for these shapes
// (measured: NN through its unpacked small-matrix kernels, and the transposed weight gradient
// accumulated as [k, filters]); Wᵀ is copied once per step, dWᵀ transposed back once.
// conv2d_relu and conv2d_relu_pool (codegen/lower.hpp) are the same op with the following ReLU
// (and 2×2 max pool) applied per sample, while its output is in cache.
#pragma once

#include <algorithm>

#include "kiln/codegen/gemm.hpp"
#include "kiln/codegen/kernels/conv.hpp"
#include "kiln/codegen/kernels/pool.hpp"
#include "kiln/codegen/layers/onnx.hpp"
#include "kiln/codegen/layers/op.hpp"
#include "kiln/codegen/lower.hpp"
#include "kiln/dsl/layers/conv.hpp"

namespace kiln::codegen {

// Then: what follows the convolution inside the op.
enum class then { nothing, relu, relu_pool };

template <dsl::conv2d L, dsl::shape In, then Then>
struct conv_op {
  static constexpr bool relu = Then != then::nothing, pool = Then == then::relu_pool;
  static constexpr dsl::shape conv_out = L.out(In);
  static constexpr dsl::shape out =
      pool ? dsl::image(L.filters, conv_out.height() / 2, conv_out.width() / 2) : conv_out;
  static constexpr int aux = pool ? out.size() : 0;  // where each window's max came from
  static constexpr bool view = false;
  static constexpr int C = In.channels(), F = L.filters, K = C * L.kernel * L.kernel;
  static constexpr int P = conv_out.height() * conv_out.width(), in_size = In.size();
  static constexpr bool pointwise = L.kernel == 1 && L.stride == 1 && L.pad == 0;
  // Same-padded stride-1 kernels (k = 2·pad + 1) run im2col and col2im without scalar edge
  // handling (kernels/conv.hpp: a zero-margined copy of each plane, column masks).
  static constexpr bool same = !pointwise && L.stride == 1 && 2 * L.pad + 1 == L.kernel;
  static constexpr long margin = long(L.pad) * In.width() + L.pad + kernels::slack;
  static constexpr long row = P + 2 * margin;
  static constexpr std::size_t cols = pointwise ? 0 : aligned(std::size_t(K) * P + kernels::slack);
  static constexpr std::size_t weights = aligned(std::size_t(K) * F);
  static constexpr std::size_t full = relu ? aligned(std::size_t(F) * P) : 0;
  static constexpr std::size_t dcols = same ? aligned(std::size_t(K) * row) : 0;
  static constexpr std::size_t padded = same ? aligned(std::size_t(P + 2 * margin)) : 0;
  static constexpr std::size_t masks =
      same ? aligned(std::size_t(L.kernel) * (P + kernels::slack)) : 0;
  static constexpr std::size_t biases = aligned(std::size_t(F));
  // Samples are split across the team (up to `members` threads, each with its own scratch: a
  // column matrix, a padded plane, a full output, the column matrix for dx, its part of dWᵀ and of
  // the bias gradient); Wᵀ and the column masks are shared. Partial gradients are summed in
  // member order: deterministic.
  static constexpr int members = 4;
  static constexpr std::size_t per_member = cols + padded + full + dcols + weights + biases;
  static constexpr std::size_t work = weights + masks + members * per_member;
  static constexpr std::size_t bias = param_offsets(L, In)[1];
  static constexpr kernels::window g{C,        In.height(), In.width(),        L.kernel,
                                     L.stride, L.pad,       conv_out.height(), conv_out.width()};

  struct scratch {
    float *col, *padded, *full, *dcol, *gwt, *db;
  };
  static scratch mine(const io& c, int m) {
    float* at = c.work + weights + masks + std::size_t(m) * per_member;
    float* padded_at = at + cols;
    float* full_at = padded_at + padded;
    float* dcol_at = full_at + full;
    float* gwt_at = dcol_at + dcols;
    return {at, padded_at, full_at, dcol_at, gwt_at, gwt_at + weights};
  }
  static const float* column_masks(const io& c) { return c.work + weights; }

  // Runs f(scratch, first sample, end) on each member's share of the batch; returns how many
  // members took part.
  template <class F>
  static int split(const io& c, F&& f) {
    const int used = std::min(c.team ? c.team->size() : 1, members);
    if constexpr (same) kernels::column_masks(g, c.work + weights);
    auto part = [&](int m) {
      if (m >= used) return;
      const auto r = rt::split(std::size_t(c.n), used, m);
      const scratch w = mine(c, m);
      if constexpr (same) std::fill(w.padded, w.padded + padded, 0.0f);  // the margins
      f(w, int(r.lo), int(r.hi));
    };
    if (c.team)
      c.team->run(part);
    else
      part(0);
    return used;
  }

  static const float* columns(const io& c, const scratch& w, int s) {
    const float* x = c.x + std::size_t(s) * in_size;
    if constexpr (pointwise) return x;
    if constexpr (same)
      kernels::im2col_same(g, x, w.padded, column_masks(c), w.col);
    else
      kernels::im2col(g, x, w.col);
    return w.col;
  }

  static void forward(const io& c) {
    split(c, [&](const scratch& w, int first, int end) {
      for (int s = first; s < end; ++s) {
        // This sample's full conv output: its own place in y, or (pooled) the scratch.
        float* y = pool ? w.full : c.y + std::size_t(s) * F * P;
        gemm_nn(F, P, K, c.w, columns(c, w, s), y);
        if constexpr (relu)  // while y is in cache
          kernels::add_channel_bias_relu(y, c.w + bias, F, P);
        else
          kernels::add_channel_bias(y, c.w + bias, 1, F, P);
        if constexpr (pool) {
          const std::size_t at = std::size_t(s) * out.size();
          kernels::max_pool_2x2(y, F, conv_out.height(), conv_out.width(), c.y + at, c.aux + at);
        }
      }
    });
  }

  // Conv, and the ReLU and 2×2 max pool a fused op does.
  static std::string to_onnx(const onnx_io& c) {
    std::string y = c.node("Conv", {c.x, param<L, In>(c, 0), param<L, In>(c, 1)},
                           {attr::integers("kernel_shape", {L.kernel, L.kernel}),
                            attr::integers("strides", {L.stride, L.stride}),
                            attr::integers("pads", {L.pad, L.pad, L.pad, L.pad})});
    if constexpr (relu) y = c.node("Relu", {y});
    if constexpr (pool)
      y = c.node("MaxPool", {y},
                 {attr::integers("kernel_shape", {2, 2}), attr::integers("strides", {2, 2})});
    return y;
  }

  static void backward(const io& c) {
    float* wt = c.work;
    if (c.dx)
      for (int f = 0; f < F; ++f)
        for (int k = 0; k < K; ++k) wt[k * F + f] = c.w[f * K + k];
    const int used = split(c, [&](const scratch& w, int first, int end) {
      std::fill(w.gwt, w.gwt + std::size_t(K) * F, 0.0f);
      std::fill(w.db, w.db + F, 0.0f);
      if constexpr (same)
        if (c.dx) std::fill(w.dcol, w.dcol + dcols, 0.0f);  // the margins; GEMMs write the rows
      for (int s = first; s < end; ++s) {
        const float* dy = c.dy + std::size_t(s) * out.size();
        if constexpr (pool) {  // unpool, the ReLU's mask, the bias gradient: in cache
          const std::size_t at = std::size_t(s) * out.size();
          kernels::max_pool_2x2_backward_relu(c.aux + at, c.y + at, dy, F, conv_out.height(),
                                              conv_out.width(), w.full, w.db);
          dy = w.full;
        } else if constexpr (relu) {
          kernels::relu_mask_sums(c.y + std::size_t(s) * F * P, dy, F, P, w.full, w.db);
          dy = w.full;
        }
        gemm_nt_add(K, F, P, columns(c, w, s), dy, w.gwt);
        if (!c.dx) continue;
        float* dx = c.dx + std::size_t(s) * in_size;
        if constexpr (pointwise) {
          gemm_nn(K, P, F, wt, dy, dx);
        } else if constexpr (same) {
          gemm_nn(K, P, F, wt, F, dy, P, w.dcol + margin, int(row));
          kernels::col2im_same(g, w.dcol, row, column_masks(c), dx);
        } else {
          gemm_nn(K, P, F, wt, dy, w.col);
          kernels::col2im(g, w.col, dx);
        }
      }
    });
    // The members' parts, in order; dWᵀ back to PyTorch's [filters, k].
    for (int f = 0; f < F; ++f)
      for (int k = 0; k < K; ++k) {
        float sum = 0;
        for (int m = 0; m < used; ++m) sum += mine(c, m).gwt[k * F + f];
        c.gw[f * K + k] = sum;
      }
    if constexpr (relu) {
      for (int f = 0; f < F; ++f) {
        float sum = 0;
        for (int m = 0; m < used; ++m) sum += mine(c, m).db[f];
        c.gw[bias + f] = sum;
      }
    } else {
      kernels::channel_sums(c.dy, std::size_t(c.n), F, P, c.gw + bias);
    }
  }
};

template <dsl::conv2d L, dsl::shape In>
struct op<L, In> : conv_op<L, In, then::nothing> {};

template <conv2d_relu L, dsl::shape In>
struct op<L, In> : conv_op<L.conv, In, then::relu> {};

template <conv2d_relu_pool L, dsl::shape In>
struct op<L, In> : conv_op<L.conv, In, then::relu_pool> {};

// A layer a fused op already did (the ReLU, the pool): its output is that op's.
template <absorbed L, dsl::shape In>
struct op<L, In> {
  static constexpr dsl::shape out = In;
  static constexpr int aux = 0;
  static constexpr bool view = true;
  static void forward(const io&) {}
  static void backward(const io&) {}
  static std::string to_onnx(const onnx_io& c) { return c.x; }
};

}  // namespace kiln::codegen
