// A generated trainer's step (included by codegen/trainer.hpp, which declares these members):
// forward through the layer ops, the loss, backward, and the fused update of each parameter
// tensor — layer by layer while its gradients are in cache, or after the whole backward pass
// when the plan clips by global norm or skips non-finite steps — plus the data-parallel step.
#pragma once

#include <cmath>
#include <cstddef>
#include <limits>
#include <utility>

#include "kiln/codegen/trainer.hpp"

namespace kiln::codegen {

template <auto Model, auto Plan>
rt::step_result trainer<Model, Plan>::train_step(const rt::batch& b) {
  if constexpr (full_batch) return full_batch_step({&b, 1});
  if (dp_.ranks()) return parallel_step(b);
  require_fits(b);
  const double lr = current_lr();
  ++steps_;
  if constexpr (skips) std::copy(mem_.b, mem_.b + lay::buffer_floats, mem_.kept_b);  // statistics
  forward(b, true, L - 2, true);
  const rt::step_result r = loss_op::loss_forward(loss_args(b), b);
  if (!std::isfinite(r.loss_sum)) return nonfinite({fault::loss, 0, r.loss_sum});
  if constexpr (per_layer) {
    backward<true>(b, lr);  // checks each layer's update as it goes (stop_run)
  } else {
    backward<false>(b, lr);
    // One reduction pass over the gradients of every tensor that trains: clipping's norm, and
    // the check that they are all finite before any of them is applied.
    const double sum = trainable_sum_squares();
    if (!std::isfinite(sum)) return nonfinite({fault::gradient, first_nonfinite(mem_.g)});
    update_layers(0, L - 1, lr, clip_scale(std::sqrt(sum)));  // every layer
  }
  faults_.passed();
  return r;
}

// Data-parallel training: b is this rank's part of a global batch (b.offset, b.total; it may
// be empty). Forward and backward on it give this rank's share of d(mean loss over the global
// batch)/d(parameters); one sum over the ranks of the flat gradient arena (from the first
// layer that trains) makes the whole batch's gradient, and then every rank runs the same
// fused update on the same numbers: the weights stay identical. The per-layer update of a
// single process becomes one update after the reduction (the same arithmetic: a layer's update
// never feeds the backward pass of the layers before it).
template <auto Model, auto Plan>
rt::step_result trainer<Model, Plan>::parallel_step(const rt::batch& b) {
  if constexpr (full_batch) {
    return full_batch_step({&b, 1});  // never reached: set_comm refuses full-batch plans
  } else {
    return reduced_step(b);
  }
}

template <auto Model, auto Plan>
rt::step_result trainer<Model, Plan>::reduced_step(const rt::batch& b) requires(!full_batch) {
  require_part_fits(b, batch_);
  const double lr = current_lr();
  ++steps_;
  if constexpr (skips) std::copy(mem_.b, mem_.b + lay::buffer_floats, mem_.kept_b);
  dp_.begin();  // batch_norm's statistics are exchanged too
  forward(b, true, L - 2, true);
  const rt::step_result r = loss_op::loss_forward(loss_args(b), b);
  // This rank's part of the loss alone may be non-finite: it then puts a NaN into each
  // gradient it sends, so that every rank finds the fault in the sums and all decide alike.
  dp_.set_poison(!std::isfinite(r.loss_sum));
  backward<false>(b, lr);
  const std::size_t from = layers_.backward_from();
  const std::size_t first = from < L ? lay::rows[from].param_base : lay::params;
  dp_.end({mem_.g + first, lay::params - first});
  double clip = 1;
  if constexpr (skips || regs.global) {
    const double sum = trainable_sum_squares();
    if (!std::isfinite(sum))
      return nonfinite(std::isfinite(r.loss_sum) ? fault{fault::gradient, first_nonfinite(mem_.g)}
                                                 : fault{fault::loss, 0, r.loss_sum});
    clip = clip_scale(std::sqrt(sum));
  }
  // Every layer; stop_run: its fused check stops every rank alike.
  update_layers(0, L - 1, lr, clip);
  faults_.passed();
  return r;
}

template <auto Model, auto Plan>
void trainer<Model, Plan>::forward(const rt::batch& b, bool train, std::size_t last, bool commit) {
  mem_.out[0] = const_cast<float*>(b.x);  // the input layer is a view of the batch; never written
  if constexpr (half)
    if (half_stale_) {  // weights written from outside the update: round them again
      engine::to_bf16(mem_.p, mem_.wh, lay::params);
      half_stale_ = false;
    }
  // Draws depend on (seed, step) only: forward and backward of a step, and repeated
  // loss()/gradient() calls at one step, see the same masks.
  rng_ = rt::epoch_rng(seed_, rt::streams::dropout, std::uint64_t(steps_));
  for (std::size_t i = 1; i <= last && i <= L - 2; ++i) {
    if (!passes<true>[i]) {  // a view: the layer before's output
      mem_.out[i] = mem_.out[i - 1];
      continue;
    }
    op_args c = layer_args(i, b);
    c.train = train;
    c.y = mem_.out[i] = mem_.act[i];
    c.commit = commit;
    passes<true>[i](c);
  }
}

template <auto Model, auto Plan>
op_args trainer<Model, Plan>::layer_args(std::size_t i, const rt::batch& b) {
  op_args c = step_args(b);
  c.x = mem_.out[i - 1];
  c.w = mem_.p + lay::rows[i].param_base;
  c.aux = mem_.aux[i];
  c.rng = &rng_;
  c.work = mem_.work[i];
  c.buf = mem_.b + lay::rows[i].buffer_base;
  c.prims = prims_[i].get();
  if constexpr (half) c.wh = mem_.wh + lay::rows[i].param_base;
  return c;
}

template <auto Model, auto Plan>
template <bool Update>
void trainer<Model, Plan>::backward(const rt::batch& b, double lr) {
  loss_op::loss_backward(loss_args(b), b);
  float* dy = mem_.grad[0];
  // Layers before the first trainable one need no backward pass at all (a frozen body).
  const std::size_t from = std::max<std::size_t>(layers_.backward_from(), 1);
  for (std::size_t i = L - 2; i >= from; --i) dy = backward_layer<Update>(i, b, dy, lr);
}

// Returns the gradient of the layer's input (for the layer before it).
template <auto Model, auto Plan>
template <bool Update>
float* trainer<Model, Plan>::backward_layer(std::size_t i, const rt::batch& b, float* dy,
                                            double lr) {
  if (!passes<false>[i]) return dy;  // a view
  op_args c = layer_args(i, b);
  c.y = mem_.out[i];
  c.dy = dy;
  c.dx = i > layers_.backward_from() ? (dy == mem_.grad[0] ? mem_.grad[1] : mem_.grad[0]) : nullptr;
  c.gw = mem_.g + lay::rows[i].param_base;
  passes<false>[i](c);
  // While its gradients are still in cache. (Full-batch plans never get here: their solver
  // moves the parameters.)
  if constexpr (Update && !full_batch) {
    if (lay::rows[i].tensors > 0 && !layers_.frozen(i)) update_layers(i, i, lr, 1.0);
  } else {
    // Data-parallel, overlapped: this layer's gradients travel while the layers before it
    // run their backward pass.
    if (lay::rows[i].param_size > 0 && !layers_.frozen(i))
      dp_.layer_done({c.gw, lay::rows[i].param_size});
  }
  dp_.progress();
  return c.dx;
}

template <auto Model, auto Plan>
void trainer<Model, Plan>::update_layers(std::size_t first, std::size_t last, double lr,
                                         double clip) {
  // Step counts first (one writer), then the team: each member takes whole rows of every
  // tensor of the layers that is not frozen, at its layer's learning rate.
  auto trains = [&](std::size_t t) {
    const std::size_t layer = lay::tensors[t].layer;
    return layer >= first && layer <= last && !layers_.frozen(layer);
  };
  for (std::size_t t = 0; t < lay::tensor_count; ++t)
    if (trains(t)) mem_.step[t] += 1;
  // One part per member, claimed (engine::claim): a descheduled member's part is run by
  // whoever is free; part j is what member j would update, so the result is the same.
  static constexpr bool some_decay = [] {
    for (std::size_t t = 0; t < lay::tensor_count; ++t)
      if (decays(t)) return true;
    return false;
  }();
  static constexpr bool some_plain = [] {
    for (std::size_t t = 0; t < lay::tensor_count; ++t)
      if (!decays(t)) return true;
    return false;
  }();
  engine::claim(team_.get(), team_->size(), [&](int, long part) {
    for (std::size_t t = 0; t < lay::tensor_count; ++t) {
      if (!trains(t)) continue;
      const double tensor_lr = lr * layers_.lr_mult(lay::tensors[t].layer);
      if (decays(t)) {
        if constexpr (some_decay) update_tensor<true>(t, tensor_lr, clip, int(part));
      } else {
        if constexpr (some_plain) update_tensor<false>(t, tensor_lr, clip, int(part));
      }
    }
  });
  // After the update (stop_run): each member's checks of its part of each tensor.
  if constexpr (!skips)
    faults_.check_update(first, last, layers_.frozen(), team_->size(),
                         [&](const fault& f) { nonfinite(f); });
}

// One member's rows of a tensor; the tensor's step count is optimizer state (a checkpoint
// saves it).
template <auto Model, auto Plan>
template <bool Decay>
void trainer<Model, Plan>::update_tensor(std::size_t tensor, double lr, double clip, int member) {
  const auto& t = lay::tensors[tensor];
  const std::size_t size = std::size_t(t.spec.dims.size());
  // A row (max_norm's unit) is never split between members.
  const std::size_t row = t.spec.dims.rank > 1 ? size / std::size_t(t.spec.dims.d[0]) : 1;
  float* check = faults_.checks(member, tensor);
  const auto part = rt::share_of(size, team_->size(), member, row);
  if (part.size() == 0) {
    check[0] = check[1] = 0;
    return;
  }
  using cfg = update_cfg<Plan, Decay>;
  update_args<cfg> a;
  a.p = mem_.p + t.offset + part.lo;
  a.g = mem_.g + t.offset + part.lo;
  for (int k = 0; k < S; ++k) a.state[k] = mem_.s[k] + t.offset + part.lo;
  if constexpr (averaged) a.ema = mem_.ema + t.offset + part.lo;
  a.n = part.size();
  a.row = t.spec.dims.rank > 1 ? row : 0;
  a.clip = clip;
  a.check = check;
  if constexpr (half) a.half = mem_.wh + t.offset + part.lo;
  prepare(a, {long(mem_.step[tensor]), lr});
  update_table<cfg>::table[table_index(update_targets_[tensor])](a);  // chosen at construction
}

// Σ g² over the tensors that train (frozen ones keep no fresh gradient).
template <auto Model, auto Plan>
double trainer<Model, Plan>::trainable_sum_squares() const {
  double sum = 0;
  for (const auto& t : lay::tensors)
    if (!layers_.frozen(t.layer))
      sum += kernels::sum_squares(mem_.g + t.offset, std::size_t(t.spec.dims.size()));
  return sum;
}

namespace detail {
template <auto R>
double scale_of(double norm) {
  if constexpr (requires { R.global; })
    return regular<R>::scale(norm);
  else
    return 1;
}
}  // namespace detail

// The gradient scale of the plan's global clipping for a total gradient norm.
template <auto Model, auto Plan>
double trainer<Model, Plan>::clip_scale(double norm) {
  return [&]<std::size_t... I>(std::index_sequence<I...>) {
    return (detail::scale_of<dsl::at<I>(regs)>(norm) * ... * 1.0);
  }
  (dsl::index_for<regs.size>{});
}

// What every layer of a step sees: the threads, the batch, its place in a data-parallel one.
template <auto Model, auto Plan>
op_args trainer<Model, Plan>::step_args(const rt::batch& b) const {
  op_args c;
  c.team = team_.get();
  c.n = b.n;
  c.offset = b.offset;
  c.total = b.total;
  c.comm = dp_.in_step();
  return c;
}

template <auto Model, auto Plan>
op_args trainer<Model, Plan>::loss_args(const rt::batch& b) {
  op_args c = step_args(b);
  c.x = mem_.out[L - 2];
  c.dx = mem_.grad[0];
  c.aux = mem_.aux[L - 1];
  return c;
}

}  // namespace kiln::codegen
