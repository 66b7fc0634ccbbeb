// residual: the body's layers run through their own ops with a layout of their own (its
// parameters and buffers are the residual layer's, in the same order); their per-sample
// outputs, scratch and two gradient buffers live in the residual's aux, their fixed scratch in
// its work. With stochastic depth a dropped block costs a copy: its body does not run, its
// gradients are zero (momentum and weight decay still act on its weights, as in PyTorch when a
// branch is multiplied by zero).
#pragma once

#include <array>
#include <cstring>

#include "kiln/codegen/kernels/arith.hpp"
#include "kiln/codegen/layers/onnx.hpp"
#include "kiln/codegen/layers/op.hpp"
#include "kiln/dsl/layers/residual.hpp"

namespace kiln::codegen {

template <auto L, dsl::shape In>
requires dsl::is_residual<std::remove_cvref_t<decltype(L)>>
struct op<L, In> {
  using lay = layout<L.body, In>;
  static constexpr std::size_t N = lay::layers;
  static constexpr dsl::shape out = In;
  static constexpr bool view = false;
  static constexpr int size = In.size();

  // Per-sample offsets inside aux: each inner layer's output (views: none) and scratch, then
  // two gradient buffers as wide as the widest inner activation.
  struct plan_t {
    std::array<int, N> act{}, aux{};
    std::array<std::size_t, N> work{};
    int grad[2]{};
    int total = 0;
    std::size_t work_total = 0;
  };
  static constexpr plan_t plan = [] {
    plan_t p;
    int at = 0;
    std::size_t w = 0;
    int widest = size;
    for (std::size_t k = 0; k < N; ++k) {
      p.act[k] = at;
      at += lay::rows[k].view ? 0 : lay::rows[k].out;
      p.aux[k] = at;
      at += lay::rows[k].aux;
      p.work[k] = w;
      w += lay::rows[k].work;
      widest = lay::rows[k].out > widest ? lay::rows[k].out : widest;
    }
    p.grad[0] = at;
    p.grad[1] = at + widest;
    p.total = at + 2 * widest;
    p.work_total = w;
    return p;
  }();
  static constexpr int aux = plan.total;
  static constexpr std::size_t work = plan.work_total + 1;  // + whether the body ran this step

  // Where inner layer k's output is: its own buffer, or (a view) its input's.
  template <std::size_t K>
  static float* output(const op_args& c) {
    if constexpr (lay::rows[K].view) {
      if constexpr (K == 0)
        return const_cast<float*>(c.x);
      else
        return output<K - 1>(c);
    } else {
      return c.aux + std::size_t(c.n) * plan.act[K];
    }
  }
  template <std::size_t K>
  static const float* input(const op_args& c) {
    if constexpr (K == 0)
      return c.x;
    else
      return output<K - 1>(c);
  }

  template <std::size_t K>
  static op_args inner(const op_args& c) {
    op_args i;
    i.n = c.n;
    i.train = c.train;
    i.commit = c.commit;
    i.offset = c.offset, i.total = c.total, i.comm = c.comm;
    i.x = input<K>(c);
    i.y = output<K>(c);
    i.w = c.w + lay::rows[K].param_base;
    i.gw = c.gw ? c.gw + lay::rows[K].param_base : nullptr;
    i.aux = c.aux + std::size_t(c.n) * plan.aux[K];
    i.rng = c.rng;
    i.team = c.team;
    i.work = c.work + plan.work[K];
    i.buf = c.buf + lay::rows[K].buffer_base;
    i.prims = c.prims ? static_cast<inner_prims*>(c.prims)->ops[K].get() : nullptr;
    i.wh = c.wh ? c.wh + lay::rows[K].param_base : nullptr;
    return i;
  }

  static float& ran(const op_args& c) { return c.work[plan.work_total]; }

  // The body's ops' engine objects, one holder per inner layer.
  struct inner_prims {
    engine::holder ops[N];
  };
  static engine::holder prepare(const engine::setup& s) {
    auto h = engine::hold<inner_prims>();
    engine::prepare_ops<lay>(static_cast<inner_prims*>(h.get())->ops, s);
    return h;
  }

  static void forward(const op_args& c) {
    const std::size_t n = std::size_t(c.n) * size;
    const bool run = !c.train || L.survival >= 1 || c.rng->uniform() < L.survival;
    ran(c) = run ? 1.0f : 0.0f;
    if (!run) {
      std::memcpy(c.y, c.x, n * sizeof(float));
      return;
    }
    [&]<std::size_t... K>(std::index_sequence<K...>) {
      ((lay::rows[K].view ? void() : lay::template op_at<K>::forward(inner<K>(c))), ...);
    }
    (dsl::index_for<N>{});
    // Training: y = x + f(x); evaluation: y = x + p·f(x), the expectation over the drops.
    const float keep = c.train ? 1.0f : float(L.survival);
    kernels::add_scaled(c.x, keep, output<N - 1>(c), c.y, n);
  }

  // The body's layers, then y = x + p·f(x) (p: stochastic depth's survival, 1 without it).
  static std::string to_onnx(const onnx_io& c) {
    std::string f = c.x;
    [&]<std::size_t... K>(std::index_sequence<K...>) { ((f = inner_to_onnx<K>(c, f)), ...); }
    (dsl::index_for<N>{});
    if constexpr (L.survival < 1) {
      const float p = float(L.survival);
      f = c.node("Mul", {f, c.g->constant({}, std::span<const float>(&p, 1))});
    }
    return c.node("Add", {c.x, f});
  }
  template <std::size_t K>
  static std::string inner_to_onnx(const onnx_io& c, const std::string& x) {
    onnx_io i = c;
    i.x = x;
    i.name = c.name + "." + std::string(dsl::chain_name(dsl::at<K>(L.body), int(K)).view());
    i.w = c.w + lay::rows[K].param_base;
    i.buf = c.buf + lay::rows[K].buffer_base;
    return export_op<typename lay::template op_at<K>>(i, dsl::at<K>(L.body).kind);
  }

  static void backward(const op_args& c) {
    const std::size_t n = std::size_t(c.n) * size;
    if (ran(c) == 0) {
      std::fill(c.gw, c.gw + lay::params, 0.0f);
      if (c.dx) std::memcpy(c.dx, c.dy, n * sizeof(float));
      return;
    }
    float* grad[2] = {c.aux + std::size_t(c.n) * plan.grad[0],
                      c.aux + std::size_t(c.n) * plan.grad[1]};
    const float* g = c.dy;
    [&]<std::size_t... J>(std::index_sequence<J...>) {
      ((g = backward_layer<N - 1 - J>(c, g, grad)), ...);
    }
    (dsl::index_for<N>{});
    if (c.dx) kernels::add(g, c.dy, c.dx, n);  // the skip path's gradient plus the body's
  }

  // Runs inner layer K's backward with dy = g; returns the gradient of its input.
  template <std::size_t K>
  static const float* backward_layer(const op_args& c, const float* g, float* const* grad) {
    if constexpr (lay::rows[K].view) {
      return g;
    } else {
      op_args i = inner<K>(c);
      i.dy = g;
      // The body's input gradient is needed when the residual's is; inside, as in a model.
      const bool needed = (K == 0 && c.dx) || (K > 0 && (c.dx || lay::needs_dx[K]));
      i.dx = needed ? (g == grad[0] ? grad[1] : grad[0]) : nullptr;
      lay::template op_at<K>::backward(i);
      return i.dx;
    }
  }
};

}  // namespace kiln::codegen
