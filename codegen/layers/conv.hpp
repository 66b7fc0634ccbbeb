// conv2d: per sample, im2col into the member's scratch and one product with the weight
// [filters, channels·k·k] (PyTorch's layout read as a matrix) through the compute engine
// (codegen/engine: oneDNN matmul primitives made when the trainer is built); a 1×1 convolution
// with stride 1 and no padding multiplies the sample itself. Backward recomputes each sample's
// column matrix (cheaper than keeping the batch's: it stays in cache) for dW += dy·colᵀ, and dx
// through dcol = Wᵀ·dy and col2im. The batch is cut into a fixed number of parts that the team's
// members claim as they come; each part sums its own weight gradient, and the parts are added in
// order, so the result depends neither on timing nor on the thread count. bf16 plans: W from the
// bf16 copy the fused update writes, each sample's columns and dy rounded in cache.
// conv2d_relu and conv2d_relu_pool (codegen/lower.hpp) are the same op with the following ReLU
// (and 2×2 max pool) applied per sample, while its output is in cache.
#pragma once

#include <algorithm>

#include <vector>

#include "kiln/codegen/engine/ops.hpp"
#include "kiln/codegen/kernels/arith.hpp"
#include "kiln/codegen/kernels/conv.hpp"
#include "kiln/codegen/kernels/pool.hpp"
#include "kiln/codegen/layers/onnx.hpp"
#include "kiln/codegen/layers/op.hpp"
#include "kiln/codegen/lower.hpp"
#include "kiln/dsl/layers/conv.hpp"

namespace kiln::codegen {

// Then: what follows the convolution inside the op.
enum class then { nothing, relu, relu_pool };

// Conv, and the ReLU and 2×2 max pool a fused op does. Not a member of conv_op: compiled once
// (layers/parts.cpp), not once per layer and input shape (the graph's strings are most of its
// code).
std::string conv_onnx(const onnx_io& c, const std::string& weight, const std::string& bias,
                      const dsl::conv2d& l, then t);

// The products of one conv layer, per sample: y = W·col, dW += dy·colᵀ, dcol = Wᵀ·dy; and, for
// bf16 plans, each member's bf16 copies of a sample's columns and dy.
struct conv_prims {
  engine::matmul forward, dw, dx;
  bool half = false;
  std::vector<std::uint16_t> colh, dyh;  // per member
  long col_size = 0, dy_size = 0;
  // F filters, K = C·k·k, P output pixels; dcol rows `row` floats apart.
  conv_prims(const engine::setup& s, long F, long K, long P, long row,
             int members);  // layers/parts.cpp
  // A product's operand for member m: f32 as it is, or rounded into the member's bf16 copy.
  const void* operand(int m, const float* x, long size, std::vector<std::uint16_t>& h) {
    if (!half) return x;
    std::uint16_t* at = h.data() + std::size_t(m) * std::size_t(size);
    engine::to_bf16(x, at, std::size_t(size));
    return at;
  }
};

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
  static constexpr long row = same ? P + 2 * margin : P;  // dcol's row stride
  static constexpr std::size_t cols = pointwise ? 0 : aligned(std::size_t(K) * P + kernels::slack);
  static constexpr std::size_t weights = aligned(std::size_t(K) * F);
  static constexpr std::size_t full = relu ? aligned(std::size_t(F) * P) : 0;
  static constexpr std::size_t dcols = same ? aligned(std::size_t(K) * row) : 0;
  static constexpr std::size_t padded = same ? aligned(std::size_t(P + 2 * margin)) : 0;
  static constexpr std::size_t masks =
      same ? aligned(std::size_t(L.kernel) * (P + kernels::slack)) : 0;
  static constexpr std::size_t biases = aligned(std::size_t(F));
  // Up to `members` threads work at once, each with its own scratch (a column matrix, a padded
  // plane, a full output, the column matrix for dx); the batch is cut into `parts` (a fixed
  // number), each with its own part of dW and of the bias gradient; the column masks are shared.
  static constexpr int members = 4, parts = 8;
  static constexpr std::size_t per_member = cols + padded + full + dcols;
  static constexpr std::size_t per_part = weights + biases;
  static constexpr std::size_t work = masks + members * per_member + parts * per_part;
  static constexpr std::size_t bias = param_offsets(L, In)[1];
  static constexpr kernels::window g{C,        In.height(), In.width(),        L.kernel,
                                     L.stride, L.pad,       conv_out.height(), conv_out.width()};

  static engine::holder prepare(const engine::setup& s) {
    return engine::hold<conv_prims>(s, F, K, P, row, std::min(s.threads, members));
  }

  struct scratch {
    float *col, *padded, *full, *dcol;
  };
  static scratch mine(const op_args& c, int m) {
    float* at = c.work + masks + std::size_t(m) * per_member;
    return {at, at + cols, at + cols + padded, at + cols + padded + full};
  }
  static float* part_dw(const op_args& c, int j) {
    return c.work + masks + members * per_member + std::size_t(j) * per_part;
  }
  static const float* column_masks(const op_args& c) { return c.work; }

  // Runs f(member, scratch, first sample, end) on each part of the batch, the members (up to
  // `members`) claiming parts as they come; `fresh(member)` is true the first time a member
  // runs in this call (its scratch's margins are zeroed then).
  template <class Fn>
  static void in_parts(const op_args& c, Fn&& f) {
    if constexpr (same) kernels::column_masks(g, c.work);
    bool seen[members] = {};
    engine::claim(c.team, parts, members, [&](int m, long j) {
      const auto r = rt::share_of(std::size_t(c.n), parts, int(j));
      const scratch w = mine(c, m);
      const bool first = !seen[m];
      seen[m] = true;
      if constexpr (same)
        if (first) std::fill(w.padded, w.padded + padded, 0.0f);  // the margins
      f(m, w, int(j), int(r.lo), int(r.hi), first);
    });
  }

  static const float* columns(const op_args& c, const scratch& w, int s) {
    const float* x = c.x + std::size_t(s) * in_size;
    if constexpr (pointwise) return x;
    if constexpr (same)
      kernels::im2col_same(g, x, w.padded, column_masks(c), w.col);
    else
      kernels::im2col(g, x, w.col);
    return w.col;
  }

  static void forward(const op_args& c) {
    auto& p = *static_cast<conv_prims*>(c.prims);
    const void* wt = p.half ? static_cast<const void*>(c.wh) : c.w;
    in_parts(c, [&](int m, const scratch& w, int, int first, int end, bool) {
      for (int s = first; s < end; ++s) {
        // This sample's full conv output: its own place in y, or (pooled) the scratch.
        float* y = pool ? w.full : c.y + std::size_t(s) * F * P;
        p.forward.run(m, wt, p.operand(m, columns(c, w, s), p.col_size, p.colh), y);
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

  static std::string to_onnx(const onnx_io& c) {
    return conv_onnx(c, param<L, In>(c, 0), param<L, In>(c, 1), L, Then);
  }

  static void backward(const op_args& c) {
    auto& p = *static_cast<conv_prims*>(c.prims);
    const void* wt = p.half ? static_cast<const void*>(c.wh) : c.w;
    in_parts(c, [&](int m, const scratch& w, int j, int first, int end, bool fresh) {
      float* gw = part_dw(c, j);
      float* db = gw + weights;
      std::fill(gw, gw + std::size_t(K) * F, 0.0f);
      std::fill(db, db + F, 0.0f);
      if constexpr (same)
        if (c.dx && fresh) std::fill(w.dcol, w.dcol + dcols, 0.0f);  // margins; products: rows
      for (int s = first; s < end; ++s) {
        const float* dy = c.dy + std::size_t(s) * out.size();
        if constexpr (pool) {  // unpool, the ReLU's mask, the bias gradient: in cache
          const std::size_t at = std::size_t(s) * out.size();
          kernels::max_pool_2x2_backward_relu(c.aux + at, c.y + at, dy, F, conv_out.height(),
                                              conv_out.width(), w.full, db);
          dy = w.full;
        } else if constexpr (relu) {
          kernels::relu_mask_sums(c.y + std::size_t(s) * F * P, dy, F, P, w.full, db);
          dy = w.full;
        }
        const void* dyo = p.operand(m, dy, p.dy_size, p.dyh);
        p.dw.run(m, dyo, p.operand(m, columns(c, w, s), p.col_size, p.colh), gw);
        if (!c.dx) continue;
        float* dx = c.dx + std::size_t(s) * in_size;
        if constexpr (pointwise) {
          p.dx.run(m, wt, dyo, dx);
        } else if constexpr (same) {
          p.dx.run(m, wt, dyo, w.dcol + margin);
          kernels::col2im_same(g, w.dcol, row, column_masks(c), dx);
        } else {
          p.dx.run(m, wt, dyo, w.col);
          kernels::col2im(g, w.col, dx);
        }
      }
    });
    // The parts' sums, in order (a part with no sample holds zeros).
    const int used = parts;
    std::copy(part_dw(c, 0), part_dw(c, 0) + std::size_t(K) * F, c.gw);
    for (int j = 1; j < used; ++j) kernels::add(c.gw, part_dw(c, j), c.gw, std::size_t(K) * F);
    if constexpr (relu) {
      for (int f = 0; f < F; ++f) {
        float sum = 0;
        for (int j = 0; j < used; ++j) sum += part_dw(c, j)[weights + f];
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
  static void forward(const op_args&) {}
  static void backward(const op_args&) {}
  static std::string to_onnx(const onnx_io& c) { return c.x; }
};

}  // namespace kiln::codegen
