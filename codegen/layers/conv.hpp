// conv2d through the compute engine's convolution (codegen/engine/conv.hpp: oneDNN's direct
// convolution primitives, made when the trainer is built, in oneDNN's blocked layouts with
// reorders from and to kiln's NCHW inside the engine), up to 8 samples per call. The batch is cut
// into a fixed number of parts that the team's members claim as they come; each part sums its
// own weight gradient, and the parts are added in order, so the result depends neither on
// timing nor on the thread count. bf16 plans: the engine rounds the inputs, the weights and dy
// to bf16 in its reorders (f32 accumulation, f32 outputs and gradients).
// conv2d_relu and conv2d_relu_pool (codegen/lower.hpp) are the same op with the bias, the
// following ReLU (and 2×2 max pool) applied per sample, while its output is in cache. With the
// pool, when oneDNN's layout is blocked by channels (engine::convolution::pooled), the bias, the
// ReLU and the pool run in that layout (kernels' *_blocked) and only the pooled quarter goes
// through the reorders to and from NCHW.
#pragma once

#include <algorithm>

#include "kiln/codegen/engine/conv.hpp"
#include "kiln/codegen/engine/ops.hpp"
#include "kiln/codegen/kernels/arith.hpp"
#include "kiln/codegen/kernels/conv.hpp"  // the bias and ReLU kernels
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

template <dsl::conv2d L, dsl::shape In, then Then>
struct conv_op {
  static constexpr bool relu = Then != then::nothing, pool = Then == then::relu_pool;
  static constexpr dsl::shape conv_out = L.out(In);
  static constexpr dsl::shape out =
      pool ? dsl::image(L.filters, conv_out.height() / 2, conv_out.width() / 2) : conv_out;
  // Where each window's max came from: NCHW, or (the pooled runs) the blocked layout, channels
  // padded to 16.
  static constexpr int aux =
      pool ? int(engine::convolution::pooled_codes(L.filters, conv_out.height(), conv_out.width()))
           : 0;
  static constexpr bool view = false;
  static constexpr int C = In.channels(), F = L.filters, K = C * L.kernel * L.kernel;
  static constexpr int P = conv_out.height() * conv_out.width(), in_size = In.size();
  static constexpr int group = int(engine::convolution::most);  // samples per engine call
  static constexpr std::size_t weights = aligned(std::size_t(K) * F);
  static constexpr std::size_t biases = aligned(std::size_t(F));
  // Up to `members` threads work at once, each with its own scratch (a group's full conv output
  // before the pool, or its dy through the ReLU and the pool); the batch is cut into `parts` (a
  // fixed number), each with its own part of dW and of the bias gradient.
  static constexpr int members = 4, parts = 8;
  static constexpr std::size_t per_member = relu ? aligned(std::size_t(group) * F * P) : 0;
  static constexpr std::size_t per_part = weights + biases;
  static constexpr std::size_t work = members * per_member + parts * per_part;
  static constexpr std::size_t bias = param_offsets(L, In)[1];

  static engine::holder prepare(const engine::setup& s) {
    const engine::conv_shape shape{.c = C,
                                   .h = In.height(),
                                   .w = In.width(),
                                   .f = F,
                                   .k = L.kernel,
                                   .stride = L.stride,
                                   .pad = L.pad,
                                   .ho = conv_out.height(),
                                   .wo = conv_out.width(),
                                   .in = s.in,
                                   .dx = true,
                                   .pool = pool};
    return engine::hold<engine::convolution>(shape, std::min(s.threads, members));
  }

  static float* scratch(const op_args& c, int m) { return c.work + std::size_t(m) * per_member; }
  static float* part_dw(const op_args& c, int j) {
    return c.work + members * per_member + std::size_t(j) * per_part;
  }

  // Runs f(member, part, first sample, end) on each part of the batch, the members (up to
  // `members`) claiming parts as they come.
  template <class Fn>
  static void in_parts(const op_args& c, Fn&& f) {
    engine::claim(c.team, parts, members, [&](int m, long j) {
      const auto r = rt::share_of(std::size_t(c.n), parts, int(j));
      f(m, int(j), int(r.lo), int(r.hi));
    });
  }

  static void forward(const op_args& c) {
    const auto& conv = *static_cast<const engine::convolution*>(c.prims);
    conv.set_weights(c.w);  // once for every part
    in_parts(c, [&](int m, int, int first, int end) {
      if constexpr (pool)
        if (conv.pooled()) {
          conv.forward_pooled(m, end - first, c.x + std::size_t(first) * in_size, c.w, c.w + bias,
                              c.y + std::size_t(first) * out.size(),
                              c.aux + std::size_t(first) * aux);
          return;
        }
      for (int s0 = first; s0 < end; s0 += group) {
        const int n = std::min(group, end - s0);
        // The group's full conv output: its own place in y, or (pooled) the scratch.
        float* y = pool ? scratch(c, m) : c.y + std::size_t(s0) * F * P;
        conv.forward(m, n, c.x + std::size_t(s0) * in_size, c.w, y);
        for (int i = 0; i < n; ++i) {  // per sample, while its output is in cache
          float* ys = y + std::size_t(i) * F * P;
          if constexpr (relu)
            kernels::add_channel_bias_relu(ys, c.w + bias, F, P);
          else
            kernels::add_channel_bias(ys, c.w + bias, 1, F, P);
          if constexpr (pool)
            kernels::max_pool_2x2(ys, F, conv_out.height(), conv_out.width(),
                                  c.y + std::size_t(s0 + i) * out.size(),
                                  c.aux + std::size_t(s0 + i) * aux);
        }
      }
    });
  }

  static std::string to_onnx(const onnx_io& c) {
    return conv_onnx(c, param<L, In>(c, 0), param<L, In>(c, 1), L, Then);
  }

  static void backward(const op_args& c) {
    const auto& conv = *static_cast<const engine::convolution*>(c.prims);
    conv.set_weights(c.w);  // again: the copies are only as fresh as the last call
    in_parts(c, [&](int m, int j, int first, int end) {
      float* gw = part_dw(c, j);
      float* db = gw + weights;
      std::fill(db, db + F, 0.0f);
      if (first == end) std::fill(gw, gw + std::size_t(K) * F, 0.0f);  // an empty part adds zeros
      for (int s0 = first; s0 < end; s0 += group) {
        const int n = std::min(group, end - s0);
        const float* dy = c.dy + std::size_t(s0) * out.size();
        const float* x = c.x + std::size_t(s0) * in_size;
        float* dx = c.dx ? c.dx + std::size_t(s0) * in_size : nullptr;
        if constexpr (pool)
          if (conv.pooled()) {  // the ReLU's mask and the bias gradient at the pooled size
            float* d = scratch(c, m);
            for (int i = 0; i < n; ++i) {
              const std::size_t at = std::size_t(s0 + i) * out.size();
              kernels::relu_mask_sums(c.y + at, c.dy + at, F, out.height() * out.width(),
                                      d + std::size_t(i) * out.size(), db);
            }
            conv.backward_pooled(m, n, x, c.w, d, c.aux + std::size_t(s0) * aux, dx, gw,
                                 s0 != first);
            continue;
          }
        if constexpr (relu) {  // the ReLU's mask (and unpooling), the bias gradient: in cache
          float* d = scratch(c, m);
          for (int i = 0; i < n; ++i) {
            const std::size_t at = std::size_t(s0 + i) * out.size();
            float* di = d + std::size_t(i) * F * P;
            if constexpr (pool)
              kernels::max_pool_2x2_backward_relu(c.aux + std::size_t(s0 + i) * aux, c.y + at,
                                                  c.dy + at, F, conv_out.height(), conv_out.width(),
                                                  di, db);
            else
              kernels::relu_mask_sums(c.y + at, c.dy + at, F, P, di, db);
          }
          dy = d;
        }
        conv.backward(m, n, x, c.w, dy, dx, gw, s0 != first);
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
