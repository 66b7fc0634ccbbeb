// The trainer generated for one (model, plan): forward and backward through the layer ops, the
// loss, and the fused update of every parameter tensor right after its gradient is known (or,
// when the plan clips by global norm, after the whole backward pass and one reduction).
// All memory is one arena sized from compile-time per-sample constants and the batch size,
// allocated at construction: a training step allocates nothing. A plan with a full-batch
// optimizer (lbfgs, newton_cg) instead steps over a whole dataset at a time: a solver moves the
// parameters and re-evaluates the loss and gradient over the data, chunk by chunk.
#pragma once

#include <hwy/aligned_allocator.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "kiln/codegen/full_batch.hpp"
#include "kiln/codegen/augment.hpp"
#include "kiln/codegen/engine/ops.hpp"
#include "kiln/codegen/generate.hpp"
#include "kiln/codegen/gemm.hpp"
#include "kiln/codegen/kernels/kernels.hpp"
#include "kiln/codegen/kernels/vector.hpp"
#include "kiln/codegen/layout.hpp"
#include "kiln/codegen/test_time.hpp"
#include "kiln/dsl/lr/plateau.hpp"
#include "kiln/dsl/schedule.hpp"
#include "kiln/runtime/app/predict.hpp"
#include "kiln/runtime/data/dataset.hpp"
#include "kiln/runtime/error.hpp"
#include "kiln/runtime/model.hpp"
#include "kiln/runtime/parallel/team.hpp"
#include "kiln/runtime/rng.hpp"
#include "kiln/runtime/train/fit.hpp"

namespace kiln {

// Transfer learning, per layer or inclusive range of layers (names as in tensors(): the DSL's
// .name or the position, "0" being the first layer after the input).
struct layer_options {
  std::string from;     // the first layer
  std::string to;       // the last one; empty: `from` alone
  bool frozen = false;  // its parameters never change (no update, no regularizer)
  double lr_mult = 1;   // its learning rate is the plan's (scheduled) one times this
};

// Run-time choices that do not change the generated code.
struct trainer_options {
  int batch = 0;                      // largest batch a step takes; 0: the plan's
  std::uint64_t seed = 0;             // weight init and dropout; used when seed_set
  bool seed_set = false;              // false: the plan's seed
  int threads = 1;                    // threads a step's kernels are split across
  std::vector<layer_options> layers;  // frozen layers, learning-rate multipliers
  // Data-parallel training: each layer's gradients start their sum over the ranks as soon as its
  // backward pass is done (MPI_Iallreduce), overlapping the backward pass of the layers before
  // it, instead of one sum of the whole arena after it (README, "Data-parallel training").
  bool overlap = false;
};

namespace codegen {

std::string to_string(const dsl::shape& s);

// The model and plan as the compiler spells them (values included): what a fingerprint hashes.
template <auto Model, auto Plan>
constexpr std::string_view declaration() {
  return __PRETTY_FUNCTION__;
}

template <auto Model, auto Plan>
class trainer final : public rt::model {
  using lay = layout<Model>;
  static constexpr std::size_t L = lay::layers;
  static constexpr auto opt = Plan.optimizer;
  using opt_type = std::remove_cvref_t<decltype(opt)>;
  static constexpr int S = opt.states();
  static constexpr bool averaged = Plan.ensemble.ema > 0;  // keeps an EMA of the weights
  static constexpr auto regs = dsl::as_regs(Plan.regularizer);
  // A NaN or infinity: skip the step (skip_step) rather than stop the run (stop_run).
  static constexpr bool skips = std::remove_cvref_t<decltype(Plan.nonfinite)>::skips;
  // Clipping by global norm needs every gradient before any update, and so does skipping a
  // step whose gradients are not all finite: then the trainer updates after the whole backward
  // pass instead of layer by layer (a compile-time choice).
  static constexpr bool per_layer = !regs.global && !skips;
  // Evaluation averages the logits of each image and its mirror image (codegen/test_time.hpp).
  static constexpr bool flips = Plan.test_time.hflip;
  // .precision = kiln::bf16: the products read bf16 copies (engine/ops.hpp, layers/dense.hpp).
  static constexpr bool half = Plan.precision == dsl::numeric_type::bf16;

 public:
  // The plan's optimizer steps over whole datasets (lbfgs, newton_cg).
  static constexpr bool full_batch = dsl::is_full_batch<opt_type>;

 private:
  using loss_op = typename lay::template op_at<L - 1>;

 public:
  explicit trainer(const trainer_options& o = {}) {
    batch_ = o.batch > 0 ? o.batch : Plan.batch;
    if (o.batch < 0)
      throw config_error("batch", "must be positive, got " + std::to_string(o.batch));
    seed_ = o.seed_set ? o.seed : Plan.seed;
    overlap_ = o.overlap;
    if constexpr (half) precision_ = engine::effective(engine::precision::bf16);
    set_threads(o.threads);
    std::fill(lr_mult_, lr_mult_ + L, 1.0);
    allocate();
    describe();
    reset();
    for (const layer_options& l : o.layers) configure(l);
  }
  // Movable (the arena moves, the pointers into it stay valid); not copyable.
  trainer(trainer&&) noexcept = default;
  trainer& operator=(trainer&&) noexcept = default;

  // Fresh weights from the seed (PyTorch's default initialization), zero optimizer state, step 0.
  void reset() {
    rt::rng init(seed_, rt::streams::init);
    std::fill(p_, p_ + lay::params, 0.0f);
    for (const auto& t : lay::tensors) {
      float* w = p_ + t.offset;
      const auto n = std::size_t(t.spec.dims.size());
      switch (t.spec.start) {
        case dsl::init::zeros:
          std::fill(w, w + n, 0.0f);
          break;
        case dsl::init::ones:
          std::fill(w, w + n, 1.0f);
          break;
        case dsl::init::fan_in_uniform: {
          const float bound = 1.0f / std::sqrt(float(t.spec.fan_in));
          for (std::size_t i = 0; i < n; ++i) w[i] = init.uniform(-bound, bound);
        }
      }
    }
    if constexpr (S > 0)
      for (int k = 0; k < S; ++k) std::fill(s_[k], s_[k] + lay::params, float(opt.state_init(k)));
    std::fill(step_, step_ + lay::tensor_count, 0.0f);
    if constexpr (averaged) std::copy(p_, p_ + lay::params, ema_);  // the average starts at p
    solver_.reset();
    std::fill(b_, b_ + lay::buffer_floats, 0.0f);
    for (const auto& t : lay::buffers)
      if (t.spec.start == dsl::init::ones)
        std::fill(b_ + t.offset, b_ + t.offset + std::size_t(t.spec.dims.size()), 1.0f);
    rng_ = rt::rng(seed_, rt::streams::dropout);
    half_stale_ = true;
    steps_ = 0;
    clock_ = {};
    plateau_ = {};
    fault_lr_ = 1;
    skipped_in_a_row_ = 0;
  }

  // --- rt::model ------------------------------------------------------------------------------
  const rt::model_info& info() const override { return info_; }
  std::span<const rt::tensor> tensors() const override {
    half_stale_ = true;  // the caller may write the weights: the bf16 copy follows before use
    return tensors_;
  }
  void set_threads(int threads) override {
    if (threads < 1) throw config_error("threads", "must be at least 1");
    single_threaded_blas();
    if (!team_ || team_->size() != threads) {
      team_ = std::make_unique<rt::team>(threads);
      // The products for this batch and team, made once here, reused by every step.
      engine::prepare_ops<lay>(prims_, {batch_, threads, precision_});
    }
    // Each member's finiteness checks of each tensor (the fused update's).
    checks_.assign(std::size_t(threads) * lay::tensor_count * 2, 0.0f);
  }
  void begin_epoch(int epoch, long steps_per_epoch) override {
    clock_.epoch = epoch;
    clock_.steps_per_epoch = std::max(steps_per_epoch, 1L);
    half_stale_ = true;
  }
  double current_lr() const override {
    if constexpr (requires { opt.lr; })
      return opt.lr *
             Plan.lr.factor({clock_.epoch, steps_, clock_.steps_per_epoch, clock_.plateau}) *
             fault_lr_;
    else
      return std::numeric_limits<double>::quiet_NaN();  // newton_cg has no learning rate
  }
  // Schedules that react to the epoch's metrics (reduce_on_plateau) see them here.
  static constexpr bool reacts_to_metrics =
      requires(dsl::plateau_state & s, const dsl::epoch_report& r) {
    Plan.lr.observe(s, r);
  };
  void end_epoch(const rt::epoch_metrics& m) override {
    const dsl::epoch_report r{m.train_loss, m.train_accuracy, m.test_loss, m.test_accuracy};
    if constexpr (reacts_to_metrics) {
      Plan.lr.observe(plateau_, r);
      clock_.plateau = plateau_.factor;
    }
  }
  rt::augment_plan augmentation() const override { return runtime_plan<Plan.augment>(); }

  // A full-batch plan takes one full-batch step on this batch alone. A non-finite loss or
  // gradient stops the run (stop_run: kiln::numeric_error) or skips the step (skip_step).
  rt::step_result train_step(const rt::batch& b) override {
    if constexpr (full_batch) return full_batch_step({&b, 1});
    if (comm_) return parallel_step(b);
    check(b);
    const double lr = current_lr();
    ++steps_;
    if constexpr (skips) std::copy(b_, b_ + lay::buffer_floats, kept_b_);  // running statistics
    forward(b, true, L - 2, true);
    const rt::step_result r = loss_op::loss_forward(loss_io(b), b);
    if (!std::isfinite(r.loss_sum)) return nonfinite({fault::loss, 0, r.loss_sum});
    if constexpr (per_layer) {
      backward<true>(b, lr);  // checks each layer's update as it goes (stop_run)
    } else {
      backward<false>(b, lr);
      // One reduction pass over the gradients of every tensor that trains: clipping's norm, and
      // the check that they are all finite before any of them is applied.
      const double sum = trainable_sum_squares();
      if (!std::isfinite(sum)) return nonfinite({fault::gradient, first_nonfinite(g_)});
      update_layer<every_layer>(lr, clip_scale(std::sqrt(sum)));
    }
    skipped_in_a_row_ = 0;
    return r;
  }

  // Data-parallel training: b is this rank's part of a global batch (b.offset, b.total; it may
  // be empty). Forward and backward on it give this rank's share of d(mean loss over the global
  // batch)/d(parameters); one sum over the ranks of the flat gradient arena (from the first
  // layer that trains) makes the whole batch's gradient, and then every rank runs the same
  // fused update on the same numbers: the weights stay identical. The per-layer update of a
  // single process becomes one update after the reduction (the same arithmetic: a layer's update
  // never feeds the backward pass of the layers before it).
  rt::step_result parallel_step(const rt::batch& b) {
    if constexpr (full_batch) {
      return full_batch_step({&b, 1});  // never reached: set_comm refuses full-batch plans
    } else {
      return reduced_step(b);
    }
  }
  rt::step_result reduced_step(const rt::batch& b) requires(!full_batch) {
    if (b.n < 0 || b.n > batch_ || b.offset < 0 || b.offset + b.n > b.global())
      throw config_error("batch", "a data-parallel step takes 0 to " + std::to_string(batch_) +
                                      " samples of its global batch, got " + std::to_string(b.n) +
                                      " at " + std::to_string(b.offset) + " of " +
                                      std::to_string(b.global()));
    const double lr = current_lr();
    ++steps_;
    if constexpr (skips) std::copy(b_, b_ + lay::buffer_floats, kept_b_);
    step_comm_ = comm_;  // batch_norm's statistics are exchanged too
    forward(b, true, L - 2, true);
    const rt::step_result r = loss_op::loss_forward(loss_io(b), b);
    // This rank's part of the loss alone may be non-finite: it then puts a NaN into each
    // gradient it sends, so that every rank finds the fault in the sums and all decide alike.
    poison_ = !std::isfinite(r.loss_sum);
    backward<false>(b, lr);
    if (overlap_) comm_->finish("the gradients");
    step_comm_ = nullptr;
    if (!overlap_ && backward_from_ < L) {
      const std::size_t from = lay::rows[backward_from_].param_base;
      if (poison_) g_[from] = std::numeric_limits<float>::quiet_NaN();
      comm_->sum({g_ + from, lay::params - from}, "the gradients");
    }
    poison_ = false;
    double clip = 1;
    if constexpr (skips || regs.global) {
      const double sum = trainable_sum_squares();
      if (!std::isfinite(sum))
        return nonfinite(std::isfinite(r.loss_sum) ? fault{fault::gradient, first_nonfinite(g_)}
                                                   : fault{fault::loss, 0, r.loss_sum});
      clip = clip_scale(std::sqrt(sum));
    }
    update_layer<every_layer>(lr, clip);  // stop_run: its fused check stops every rank alike
    skipped_in_a_row_ = 0;
    return r;
  }

  // Data-parallel training over the ranks of `c` (rt::fit sets it); nullptr or one rank: alone.
  void set_comm(const rt::comm* c) override {
    if (full_batch && c && c->distributed())
      throw config_error("data-parallel",
                         "full-batch plans (lbfgs, newton_cg) train in one process");
    comm_ = c && c->distributed() ? c : nullptr;
  }

  rt::step_result eval_step(const rt::batch& b, float* outputs) override {
    if constexpr (flips) {
      flip_averaged(b, mean_);
      io c = loss_io(b);
      c.x = mean_;
      const rt::step_result r = loss_op::loss_forward(c, b);
      if (outputs) std::memcpy(outputs, mean_, sizeof(float) * b.n * info_.outputs);
      return r;
    }
    const rt::step_result r = loss(b, false);
    if (outputs) std::memcpy(outputs, out_[L - 2], sizeof(float) * b.n * info_.outputs);
    return r;
  }
  // predict's outputs are those evaluation scores: flip-averaged under test_time{.hflip}.
  void infer(const rt::batch& b, float* outputs) override {
    if constexpr (flips) {
      flip_averaged(b, outputs);
    } else {
      const std::span<const float> y = this->outputs(b, false);
      std::memcpy(outputs, y.data(), y.size_bytes());
    }
  }
  // Every layer's to_onnx (codegen/layers/onnx.hpp), in order; the loss adds nothing. Under
  // test_time{.hflip} the graph runs the batch and its mirror image as one batch of 2N and
  // averages the two halves, as infer() does (codegen/test_time.hpp).
  std::string to_onnx(rt::onnx_graph& g, const std::string& input) const override {
    std::string x = input;
    if constexpr (flips) x = onnx_with_mirror(g, x);
    [&]<std::size_t... I>(std::index_sequence<I...>) {
      ((x = export_op<typename lay::template op_at<I + 1>>(
            {&g, x, names_[I + 1], p_ + lay::rows[I + 1].param_base,
             b_ + lay::rows[I + 1].buffer_base},
            dsl::at<I + 1>(Model).kind)),
       ...);
    }
    (dsl::index_for<L - 2>{});
    if constexpr (flips) x = onnx_mean_of_halves(g, x, info_.outputs);
    return x;
  }
  // The outputs before the loss (logits) of any number of samples (whole samples of the input
  // shape, features as the model takes them: standardize first, or use rt::predictor), in
  // evaluation mode, batch by batch; `out` gets samples × outputs floats. Allocates nothing
  // (the second form: the result only).
  void predict(std::span<const float> x, std::span<float> out) { rt::predict(*this, x, out); }
  std::vector<float> predict(std::span<const float> x) { return rt::predict(*this, x); }

  // Identifies (Model, Plan) as the compiler spells them: a checkpoint loads only into the
  // trainer generated for the same declaration.
  std::string fingerprint() const override {
    char hex[17];
    std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(declaration_hash));
    return hex;
  }
  bool swap_averaged_weights() override {
    if constexpr (averaged) std::swap_ranges(p_, p_ + lay::params, ema_);
    half_stale_ = true;
    return averaged;
  }
  rt::resume_state save_resume_state() const override {
    rt::resume_state s;
    s.steps = steps_;
    std::copy(rng_.state(), rng_.state() + 4, s.rng.begin());
    if constexpr (reacts_to_metrics)
      s.schedule = {double(plateau_.started), plateau_.best, double(plateau_.bad_epochs),
                    double(plateau_.cooldown), plateau_.factor};
    s.fault_lr = fault_lr_;
    s.skipped_in_a_row = skipped_in_a_row_;
    return s;
  }
  void load_resume_state(const rt::resume_state& s) override {
    steps_ = s.steps;
    std::uint64_t words[4];
    std::copy(s.rng.begin(), s.rng.end(), words);
    rng_.set_state(words);
    if constexpr (reacts_to_metrics) {
      if (s.schedule.size() != 5)
        throw config_error("resume state", "reduce_on_plateau needs its 5 values, got " +
                                               std::to_string(s.schedule.size()));
      plateau_ = {s.schedule[0] != 0, s.schedule[1], int(s.schedule[2]), int(s.schedule[3]),
                  s.schedule[4]};
      clock_.plateau = plateau_.factor;
    }
    fault_lr_ = s.fault_lr;
    skipped_in_a_row_ = s.skipped_in_a_row;
  }

  // --- transfer learning ----------------------------------------------------------------------
  // Applies one layer_options entry (see trainer_options::layers); may change between epochs.
  void configure(const layer_options& l) {
    const std::size_t first = layer_index(l.from);
    const std::size_t last = l.to.empty() ? first : layer_index(l.to);
    if (last < first) throw config_error("layers", "'" + l.to + "' comes before '" + l.from + "'");
    if (!(l.lr_mult >= 0) || !std::isfinite(l.lr_mult))
      throw config_error("lr_mult", "must be finite and >= 0, got " + std::to_string(l.lr_mult));
    if (full_batch && l.lr_mult != 1)
      throw config_error("lr_mult", "full-batch plans (lbfgs, newton_cg) have no per-layer rates");
    for (std::size_t i = first; i <= last; ++i) frozen_[i] = l.frozen, lr_mult_[i] = l.lr_mult;
    plan_backward();
  }
  void freeze(std::string_view from, std::string_view to = {}) {
    configure({std::string(from), std::string(to), true, 1});
  }
  bool frozen(std::string_view layer) const { return frozen_[layer_index(layer)]; }
  double lr_mult(std::string_view layer) const { return lr_mult_[layer_index(layer)]; }

  // Feature extraction: the output of `layer` for the batch, in evaluation mode (n × the
  // layer's output size floats into `out`). Only the layers up to it run.
  void features(const rt::batch& b, std::string_view layer, float* out) {
    check(b);
    const std::size_t last = layer_index(layer);
    if (!lay::materialized[last])
      throw config_error("layer", "'" + std::string(layer) +
                                      "' runs fused with the layers after it (conv2d | relu, "
                                      "| max_pool 2x2): its own output is never stored; take the "
                                      "features after that chain");
    forward(b, false, last, false);
    std::memcpy(out, out_[last], sizeof(float) * std::size_t(b.n) * out_size_[last]);
  }
  // The shape of one sample of `layer`'s output.
  std::vector<int> output_shape(std::string_view layer) const {
    const dsl::shape s = out_shape_[layer_index(layer)];
    return {s.d, s.d + s.rank};
  }

  // --- for users ------------------------------------------------------------------------------
  // The loss of a batch (summed over samples), in training or evaluation mode; changes nothing
  // (running statistics stay; random masks are those the next gradient() would draw).
  rt::step_result loss(const rt::batch& b, bool train) {
    check(b);
    forward(b, train, L - 2, false);
    return loss_op::loss_forward(loss_io(b), b);
  }

  // The network's outputs (what the loss sees) for a batch, n × outputs floats, valid until the
  // next call; in training mode with this step's draws (masks, drops, regions). Changes nothing.
  std::span<const float> outputs(const rt::batch& b, bool train) {
    check(b);
    forward(b, train, L - 2, false);
    return {out_[L - 2], std::size_t(b.n) * std::size_t(info_.outputs)};
  }

  // Forward and backward in training mode: gradients() receives d(mean loss)/d(parameters);
  // no update, the step count unchanged (so the random masks are the same on every call).
  // Running statistics move as in a training step. (Full-batch methods and gradient checks.)
  rt::step_result gradient(const rt::batch& b) {
    check(b);
    forward(b, true, L - 2, true);
    const rt::step_result r = loss_op::loss_forward(loss_io(b), b);
    backward<false>(b, 0);
    return r;
  }

  // The same over several batches (a dataset in chunks of at most batch() samples): the summed
  // loss, and in gradients() d(mean loss over all their samples)/d(parameters), as if they were
  // one batch — the chunks' gradients weighted by their share of the samples.
  rt::step_result loss(std::span<const rt::batch> data, bool train) {
    rt::step_result sum;
    for (const rt::batch& b : data) add_up(sum, loss(b, train));
    return sum;
  }
  rt::step_result gradient(std::span<const rt::batch> data) {
    if (data.empty()) throw config_error("data", "a gradient needs at least one batch");
    if (data.size() == 1) return gradient(data[0]);
    const double total = samples_in(data);
    rt::step_result sum;
    for (std::size_t i = 0; i < data.size(); ++i) {
      add_up(sum, gradient(data[i]));
      const auto share = float(data[i].n / total);
      if (i == 0)
        kernels::scale(share, g_, sum_, lay::params);
      else
        kernels::axpy(share, g_, sum_, lay::params);
    }
    std::memcpy(g_, sum_, sizeof(float) * lay::params);
    return sum;
  }

  // The function a full-batch plan minimizes, at the current parameters: the mean loss over
  // `data` plus the plan's penalties, l2/2·‖w‖² + l1·‖w‖₁ over the tensors that decay; its
  // gradient goes to gradients(). `data` holds the data's own summed loss and correct count.
  struct objective_value {
    double value = 0;
    rt::step_result data{};
  };
  objective_value objective(std::span<const rt::batch> data) {
    objective_value v;
    half_stale_ = true;  // the solver moved the parameters
    v.data = gradient(data);
    v.value = v.data.loss_sum / samples_in(data);
    using pen = penalties<Plan>;
    if constexpr (pen::any)
      for (const auto& t : lay::tensors)
        if (Plan.decay == dsl::decay_on::all || t.spec.decay)
          v.value += kernels::penalty(p_ + t.offset, g_ + t.offset, std::size_t(t.spec.dims.size()),
                                      float(pen::l2), float(pen::l1));
    // A frozen layer's gradient is zero, so that no solver moves it.
    for (const auto& t : lay::tensors)
      if (frozen_[t.layer]) std::fill(g_ + t.offset, g_ + t.offset + t.spec.dims.size(), 0.0f);
    return v;
  }

  // Full-batch plans: one step of the plan's solver (PyTorch's optimizer.step(closure)) over all
  // of `data`, which it evaluates through objective() as often as it needs. Deterministic: the
  // chunks are evaluated in order. Returns the data's loss where the step started.
  rt::step_result full_batch_step(std::span<const rt::batch> data) override {
    if constexpr (!full_batch) {
      return rt::model::full_batch_step(data);  // throws: this plan trains in mini-batches
    } else {
      if (data.empty()) throw config_error("data", "a full-batch step needs at least one sample");
      for (const rt::batch& b : data) check(b);
      if constexpr (requires { opt.lr; }) solver_.set_lr(current_lr());
      ++steps_;
      full_batch_objective<trainer> f(*this, data);
      last_step_ = solver_.step(f);
      // After the step: its cost dwarfs one pass over the parameters.
      const rt::step_result start = f.start();
      if (!std::isfinite(start.loss_sum)) nonfinite({fault::loss, 0, start.loss_sum});
      if (!std::isfinite(kernels::sum_squares(p_, lay::params)))
        nonfinite({fault::weights, first_nonfinite(p_)});
      return start;
    }
  }

  // Full-batch plans: the solver (its counters, options), what the last step did, and a function
  // called after every iteration (progress, loss-versus-time traces).
  const auto& solver() const requires full_batch { return solver_; }
  const second_order::step_report& last_step() const requires full_batch { return last_step_; }
  void observe(second_order::observer o) requires full_batch { solver_.observe(std::move(o)); }

  // --- for users ------------------------------------------------------------------------------
  // Trains with the plan's epochs, batch and seed (progress on stderr).
  rt::fit_result fit(const rt::dataset& train, const rt::dataset& test) {
    return rt::fit(*this, train, &test, {Plan.epochs, batch_, seed_, {}, true});
  }
  rt::fit_result fit(const rt::dataset& train, const rt::dataset* test, rt::fit_options o) {
    return rt::fit(*this, train, test, o);
  }

  // A parameter or state tensor by name ("fc1.weight", "fc1.weight.momentum_buffer",
  // "fc1.weight.step").
  std::span<float> tensor(std::string_view name) {
    half_stale_ = true;
    for (auto& t : tensors_)
      if (t.name == name) return t.data;
    throw config_error("tensor", "no tensor named '" + std::string(name) + "'");
  }
  // The parameter arena (every tensor, in order, 64-byte aligned with zero padding between) and
  // the gradient arena laid out the same way.
  std::span<float> parameters() {
    half_stale_ = true;
    return {p_, lay::params};
  }
  std::span<float> gradients() { return {g_, lay::params}; }
  // The buffer arena (running statistics), laid out like the parameters.
  std::span<float> buffers() { return {b_, lay::buffer_floats}; }
  long steps() const { return steps_; }
  int batch() const { return batch_; }

  static constexpr long parameter_count = dsl::param_count(Model);

 private:
  // Where a step met a NaN or an infinity.
  struct fault {
    enum { loss, gradient, weights } what;
    std::size_t tensor = 0;  // gradient, weights: which one (an index into lay::tensors)
    double value = 0;        // loss: its value
  };

  // What a fault at step steps_ leads to: with skip_step, the step is undone (the running
  // statistics restored; nothing else was written yet) and the learning rate lowered, until
  // max_in_a_row such steps in a row; otherwise kiln::numeric_error. Skipping allocates nothing;
  // the message is built only to be thrown.
  rt::step_result nonfinite(const fault& f) {
    std::string stopped;  // empty: no allocation on the way to a skip
    if constexpr (!skips) {
      stopped = "; training stopped (plan: .nonfinite = stop_run{})";
    } else {
      std::copy(kept_b_, kept_b_ + lay::buffer_floats, b_);
      if (++skipped_in_a_row_ < Plan.nonfinite.max_in_a_row) {
        fault_lr_ *= Plan.nonfinite.lr_factor;
        return {0, 0, true};
      }
      stopped =
          " (" + std::to_string(skipped_in_a_row_) +
          " steps in a row); training stopped (plan: .nonfinite = skip_step{.max_in_a_row = " +
          std::to_string(Plan.nonfinite.max_in_a_row) + "})";
    }
    const std::string name = f.what == fault::loss ? "loss" : tensors_[f.tensor].name;
    switch (f.what) {
      case fault::loss:
        throw numeric_error(
            steps_, name,
            std::string("the loss is ") + (std::isnan(f.value) ? "NaN" : "infinite") + stopped);
      case fault::gradient:
        throw numeric_error(steps_, name,
                            "the gradient of '" + name +
                                "' is not finite (NaN or infinity; the first such tensor of the "
                                "backward pass)" +
                                stopped);
      case fault::weights:
        break;
    }
    throw numeric_error(steps_, name,
                        "the update made '" + name +
                            "' non-finite from a finite gradient (a learning rate too large, "
                            "optimizer state gone bad?)" +
                            stopped);
  }
  // The first tensor, in the order of the backward pass (last layer first), whose values in
  // `arena` (gradients or parameters) are not all finite.
  std::size_t first_nonfinite(const float* arena) const {
    for (std::size_t layer = L; layer-- > 1;)
      for (std::size_t t = 0; t < lay::tensor_count; ++t)
        if (lay::tensors[t].layer == layer && !frozen_[layer] &&
            !std::isfinite(kernels::sum_squares(arena + lay::tensors[t].offset,
                                                std::size_t(lay::tensors[t].spec.dims.size()))))
          return t;
    return 0;
  }
  // After layer I's update (stop_run): each member's checks of its part of each tensor.
  template <std::size_t I>
  void check_update() {
    constexpr std::size_t first = I == every_layer ? 1 : I, last = I == every_layer ? L - 1 : I;
    for (std::size_t layer = last + 1; layer-- > first;)
      for (std::size_t t = 0; t < lay::tensor_count; ++t) {
        if (lay::tensors[t].layer != layer || frozen_[layer]) continue;
        for (int m = 0; m < team_->size(); ++m) {
          const float* c = &checks_[(std::size_t(m) * lay::tensor_count + t) * 2];
          if (!std::isfinite(c[0])) nonfinite({fault::gradient, t});
          if (!std::isfinite(c[1])) nonfinite({fault::weights, t});
        }
      }
  }

  // test_time{.hflip}: the mean of the evaluation-mode logits of b and of its mirror image.
  void flip_averaged(const rt::batch& b, float* mean) {
    check(b);
    flip_averaged_logits<lay::in[0]>(b, std::size_t(info_.outputs), mirror_, first_, mean,
                                     [&](const rt::batch& v) {
                                       forward(v, false, L - 2, false);
                                       return static_cast<const float*>(out_[L - 2]);
                                     });
  }

  void check(const rt::batch& b) const {
    if (b.n < 1 || b.n > batch_)
      throw config_error("batch", "a step takes 1 to " + std::to_string(batch_) + " samples, got " +
                                      std::to_string(b.n));
  }

  static void add_up(rt::step_result& sum, const rt::step_result& r) {
    sum.loss_sum += r.loss_sum;
    sum.correct += r.correct;
  }
  static double samples_in(std::span<const rt::batch> data) {
    double n = 0;
    for (const rt::batch& b : data) n += b.n;
    return n;
  }
  static typename solver_for<opt_type>::type make_solver() {
    if constexpr (full_batch)
      return typename solver_for<opt_type>::type(opt, lay::params);
    else
      return {};
  }

  // What every layer of a step sees: the threads, the batch, its place in a data-parallel one.
  io step_io(const rt::batch& b) const {
    io c;
    c.team = team_.get();
    c.n = b.n;
    c.offset = b.offset;
    c.total = b.total;
    c.comm = step_comm_;
    return c;
  }

  io loss_io(const rt::batch& b) {
    io c = step_io(b);
    c.x = out_[L - 2];
    c.dx = grad_[0];
    c.aux = aux_[L - 1];
    return c;
  }

  // Runs layers 1..last (the loss is not one of them). `commit`: running statistics move.
  void forward(const rt::batch& b, bool train, std::size_t last, bool commit) {
    out_[0] = const_cast<float*>(b.x);  // the input layer is a view of the batch; never written
    if constexpr (half)
      if (half_stale_) {  // weights written from outside the update: round them again
        engine::to_bf16(p_, wh_, lay::params);
        half_stale_ = false;
      }
    // Draws depend on (seed, step) only: forward and backward of a step, and repeated
    // loss()/gradient() calls at one step, see the same masks.
    rng_ = rt::epoch_rng(seed_, rt::streams::dropout, std::uint64_t(steps_));
    [&]<std::size_t... I>(std::index_sequence<I...>) {
      ((I + 1 <= last ? forward_layer<I + 1>(b, train, commit) : void()), ...);
    }
    (dsl::index_for<L - 2>{});
  }

  template <std::size_t I>
  void forward_layer(const rt::batch& b, bool train, bool commit) {
    using op_t = typename lay::template op_at<I>;
    if constexpr (op_t::view) {
      out_[I] = out_[I - 1];
    } else {
      io c = step_io(b);
      c.train = train;
      c.x = out_[I - 1];
      c.y = out_[I] = act_[I];
      c.w = p_ + lay::rows[I].param_base;
      c.aux = aux_[I];
      c.rng = &rng_;
      c.work = work_[I];
      c.buf = b_ + lay::rows[I].buffer_base;
      c.commit = commit;
      c.prims = prims_[I].get();
      if constexpr (half) c.wh = wh_ + lay::rows[I].param_base;
      op_t::forward(c);
    }
  }

  template <bool Update>
  void backward(const rt::batch& b, double lr) {
    loss_op::loss_backward(loss_io(b), b);
    float* dy = grad_[0];
    // Layers before the first trainable one need no backward pass at all (a frozen body).
    [&]<std::size_t... I>(std::index_sequence<I...>) {
      ((dy = L - 2 - I >= backward_from_ ? backward_layer<L - 2 - I, Update>(b, dy, lr) : dy), ...);
    }
    (dsl::index_for<L - 2>{});
  }

  // Returns the gradient of the layer's input (for the layer before it).
  template <std::size_t I, bool Update>
  float* backward_layer(const rt::batch& b, float* dy, double lr) {
    using op_t = typename lay::template op_at<I>;
    if constexpr (op_t::view) {
      return dy;
    } else {
      io c = step_io(b);
      c.x = out_[I - 1];
      c.y = out_[I];
      c.dy = dy;
      c.dx = I > backward_from_ ? (dy == grad_[0] ? grad_[1] : grad_[0]) : nullptr;
      c.w = p_ + lay::rows[I].param_base;
      c.gw = g_ + lay::rows[I].param_base;
      c.aux = aux_[I];
      c.rng = &rng_;
      c.work = work_[I];
      c.buf = b_ + lay::rows[I].buffer_base;
      c.prims = prims_[I].get();
      if constexpr (half) c.wh = wh_ + lay::rows[I].param_base;
      op_t::backward(c);
      // While its gradients are still in cache. (Full-batch plans never get here: their solver
      // moves the parameters.)
      if constexpr (Update && !full_batch) {
        if (!frozen_[I]) update_layer<I>(lr, 1.0);
      } else if constexpr (lay::rows[I].param_size > 0) {
        // Data-parallel, overlapped: this layer's gradients travel while the layers before it
        // run their backward pass.
        if (overlap_ && step_comm_ && !frozen_[I]) {
          if (poison_) c.gw[0] = std::numeric_limits<float>::quiet_NaN();  // see reduced_step
          step_comm_->start_sum({g_ + lay::rows[I].param_base, lay::rows[I].param_size},
                                "the gradients");
        }
      }
      if (overlap_ && step_comm_) step_comm_->progress("the gradients");
      return c.dx;
    }
  }

  // The fused update of every tensor of layer I (or of every tensor, after the whole backward
  // pass, when the plan clips by global norm).
  static constexpr std::size_t every_layer = L;
  template <std::size_t I>
  static constexpr bool picks(std::size_t tensor) {
    return I == every_layer || lay::tensors[tensor].layer == I;
  }
  template <std::size_t I>
  void update_layer(double lr, double clip) {
    constexpr bool any = [] {
      for (std::size_t t = 0; t < lay::tensor_count; ++t)
        if (picks<I>(t)) return true;
      return false;
    }();
    if constexpr (!any) return;  // no team run for a layer without parameters
    // Step counts first (one writer), then the team: each member takes whole rows of every
    // tensor of the layer (all tensors: I == every_layer) that is not frozen, at the layer's
    // learning rate.
    auto trains = [&](std::size_t t) { return picks<I>(t) && !frozen_[lay::tensors[t].layer]; };
    [&]<std::size_t... T>(std::index_sequence<T...>) {
      ((trains(T) ? void(step_[T] += 1) : void()), ...);
    }
    (dsl::index_for<lay::tensor_count>{});
    // One part per member, claimed (engine::claim): a descheduled member's part is run by
    // whoever is free; part j is what member j would update, so the result is the same.
    engine::claim(team_.get(), team_->size(), [&](int, long part) {
      [&]<std::size_t... T>(std::index_sequence<T...>) {
        ((trains(T) ? update_tensor<T>(lr * lr_mult_[lay::tensors[T].layer], clip, int(part))
                    : void()),
         ...);
      }
      (dsl::index_for<lay::tensor_count>{});
    });
    if constexpr (!skips) check_update<I>();
  }

  // One member's rows of a tensor; the tensor's step count is optimizer state (a checkpoint
  // saves it).
  template <std::size_t T>
  void update_tensor(double lr, double clip, int member) {
    constexpr auto t = lay::tensors[T];
    constexpr std::size_t size = std::size_t(t.spec.dims.size());
    // A row (max_norm's unit) is never split between members.
    constexpr std::size_t row = t.spec.dims.rank > 1 ? size / std::size_t(t.spec.dims.d[0]) : 1;
    float* check = &checks_[(std::size_t(member) * lay::tensor_count + T) * 2];
    const auto part = rt::split(size, team_->size(), member, row);
    if (part.size() == 0) {
      check[0] = check[1] = 0;
      return;
    }
    using cfg = update_cfg<Plan, Plan.decay == dsl::decay_on::all || t.spec.decay>;
    update_args<cfg> a;
    a.p = p_ + t.offset + part.lo;
    a.g = g_ + t.offset + part.lo;
    for (int k = 0; k < S; ++k) a.state[k] = s_[k] + t.offset + part.lo;
    if constexpr (averaged) a.ema = ema_ + t.offset + part.lo;
    a.n = part.size();
    a.row = t.spec.dims.rank > 1 ? row : 0;
    a.clip = clip;
    a.check = check;
    if constexpr (half) a.half = wh_ + t.offset + part.lo;
    prepare(a, {long(step_[T]), lr});
    update(a);
  }

  // Σ g² over the tensors that train (frozen ones keep no fresh gradient).
  double trainable_sum_squares() const {
    double sum = 0;
    for (const auto& t : lay::tensors)
      if (!frozen_[t.layer])
        sum += kernels::sum_squares(g_ + t.offset, std::size_t(t.spec.dims.size()));
    return sum;
  }

  // The gradient scale of the plan's global clipping for a total gradient norm.
  static double clip_scale(double norm) {
    return [&]<std::size_t... I>(std::index_sequence<I...>) {
      return (scale_of<dsl::at<I>(regs)>(norm) * ... * 1.0);
    }
    (dsl::index_for<regs.size>{});
  }
  template <auto R>
  static double scale_of(double norm) {
    if constexpr (requires { R.global; })
      return regular<R>::scale(norm);
    else
      return 1;
  }

  void allocate() {
    const auto B = std::size_t(batch_);
    std::size_t total = (3 + S + averaged) * lay::params + aligned(lay::tensor_count) +
                        (1 + skips) * lay::buffer_floats + lay::work + 2 * aligned(B * lay::widest);
    if constexpr (flips)
      total += aligned(B * lay::in[0].size()) + 2 * aligned(B * lay::in[L - 1].size());
    for (std::size_t i = 0; i < L; ++i)
      total +=
          aligned(B * lay::rows[i].aux) + (lay::rows[i].view ? 0 : aligned(B * lay::rows[i].out));
    if constexpr (half) total += aligned(lay::params / 2 + 1);  // the bf16 weights
    arena_ = hwy::AllocateAligned<float>(total);
    if (!arena_) throw error("kiln: cannot allocate " + std::to_string(total * 4) + " bytes");
    std::fill(arena_.get(), arena_.get() + total, 0.0f);
    float* at = arena_.get();
    auto take = [&](std::size_t n) { return std::exchange(at, at + n); };
    p_ = take(lay::params);
    g_ = take(lay::params);
    sum_ = take(lay::params);
    for (int k = 0; k < S; ++k) s_[k] = take(lay::params);
    step_ = take(aligned(lay::tensor_count));
    b_ = take(lay::buffer_floats);
    if constexpr (skips) kept_b_ = take(lay::buffer_floats);
    if constexpr (averaged) ema_ = take(lay::params);
    for (auto& g : grad_) g = take(aligned(B * lay::widest));
    if constexpr (flips) {
      mirror_ = take(aligned(B * lay::in[0].size()));
      first_ = take(aligned(B * lay::in[L - 1].size()));
      mean_ = take(aligned(B * lay::in[L - 1].size()));
    }
    if constexpr (half) wh_ = reinterpret_cast<std::uint16_t*>(take(aligned(lay::params / 2 + 1)));
    for (std::size_t i = 0; i < L; ++i) {
      work_[i] = take(lay::rows[i].work);
      aux_[i] = take(aligned(B * lay::rows[i].aux));
      act_[i] = lay::rows[i].view ? nullptr : take(aligned(B * lay::rows[i].out));
    }
  }

  // The model's view for the runtime: shapes, names, tensors.
  void describe() {
    const dsl::shape input = lay::in[0];
    info_.input.assign(input.d, input.d + input.rank);
    info_.outputs = lay::in[L - 1].size();
    info_.kind = std::is_same_v<std::remove_cvref_t<decltype(dsl::at<L - 1>(Model))>,
                                dsl::softmax_cross_entropy>
                     ? rt::task::classify
                     : rt::task::regress;
    info_.batch = batch_;
    info_.epochs = Plan.epochs;
    info_.seed = seed_;
    info_.members = Plan.ensemble.members;
    info_.vote = Plan.ensemble.vote;
    if constexpr (requires { Plan.lr.cycle_epochs; })
      info_.snapshot_epochs = Plan.ensemble.snapshots ? Plan.lr.cycle_epochs : 0;
    info_.averaged = averaged;
    info_.full_batch = full_batch;
    std::vector<std::string>& names = names_;
    names.resize(L);
    [&]<std::size_t... I>(std::index_sequence<I...>) {
      ((names[I] = layer_name<I>()), ...);
      ((out_shape_[I] = dsl::at<I>(Model).out(lay::in[I]), out_size_[I] = out_shape_[I].size()),
       ...);
      ((info_.summary += std::to_string(I) + " " + std::string(dsl::at<I>(Model).kind) +
                         (names[I].empty() ? "" : " '" + names[I] + "'") + ": " +
                         to_string(lay::in[I]) + " -> " +
                         to_string(dsl::at<I>(Model).out(lay::in[I])) + "\n"),
       ...);
    }
    (dsl::index_for<L>{});
    auto dims = [](const dsl::shape& s) { return std::vector<int>(s.d, s.d + s.rank); };
    // Named by the DSL (or position), and as an nn.Sequential of the same layers would name it.
    auto add = [&](const auto& t, std::string suffix, float* base, rt::tensor_role role) {
      const auto n = std::size_t(t.spec.dims.size());
      const std::string position = std::to_string(t.layer - 1) + "." + suffix;
      tensors_.push_back(
          {names[t.layer] + "." + suffix, dims(t.spec.dims), {base + t.offset, n}, role, position});
    };
    for (const auto& t : lay::tensors)
      add(t, std::string(t.spec.name.view()), p_, rt::tensor_role::param);
    if constexpr (S > 0)
      for (int k = 0; k < S; ++k)
        for (const auto& t : lay::tensors)
          add(t, std::string(t.spec.name.view()) + "." + std::string(opt.state_name(k)), s_[k],
              rt::tensor_role::state);
    // Each tensor's step count, a float32 scalar like PyTorch's state["step"].
    for (std::size_t i = 0; i < lay::tensor_count; ++i) {
      const auto& t = lay::tensors[i];
      const std::string suffix = std::string(t.spec.name.view()) + ".step";
      tensors_.push_back({names[t.layer] + "." + suffix,
                          {},
                          {step_ + i, 1},
                          rt::tensor_role::state,
                          std::to_string(t.layer - 1) + "." + suffix});
    }
    // The moving average is state too: checkpoints keep it, weight imports leave it.
    if constexpr (averaged)
      for (const auto& t : lay::tensors)
        add(t, std::string(t.spec.name.view()) + ".ema", ema_, rt::tensor_role::state);
    for (const auto& t : lay::buffers)
      add(t, std::string(t.spec.name.view()), b_, rt::tensor_role::buffer);
    plan_backward();
  }

  std::size_t layer_index(std::string_view name) const {
    for (std::size_t i = 1; i + 1 < L; ++i)
      if (names_[i] == name || std::to_string(i - 1) == name) return i;
    std::string known;
    for (std::size_t i = 1; i + 1 < L; ++i) known += (known.empty() ? "" : ", ") + names_[i];
    throw config_error("layer",
                       "no layer named '" + std::string(name) + "' (the layers: " + known + ")");
  }

  // The first layer whose backward must run: the first one with parameters not frozen.
  void plan_backward() {
    backward_from_ = L;
    for (std::size_t i = L - 2; i >= 1; --i)
      if (lay::rows[i].tensors > 0 && !frozen_[i]) backward_from_ = i;
  }

  static constexpr std::uint64_t declaration_hash = [] {
    std::uint64_t h = 14695981039346656037ull;  // FNV-1a over the compiler's spelling
    for (const char c : declaration<Model, Plan>())
      h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ull;
    return h;
  }();

  // The DSL's .name when given, else the layer's position as PyTorch's nn.Sequential numbers it
  // (the input layer is not a module: the first layer after it is "0").
  template <std::size_t I>
  static std::string layer_name() {
    if constexpr (I == 0) {
      return "input";
    } else if constexpr (requires { dsl::at<I>(Model).name; }) {
      if (!dsl::at<I>(Model).name.empty()) return std::string(dsl::at<I>(Model).name.view());
      return std::to_string(I - 1);
    } else {
      return std::to_string(I - 1);
    }
  }

  std::unique_ptr<rt::team> team_;
  engine::holder prims_[L];  // each op's engine objects (its products), for batch_ and team_
  engine::precision precision_ = engine::precision::f32;  // what the products run in
  std::uint16_t* wh_ = nullptr;     // bf16 plans: the weights rounded to bf16, laid out like p_
  mutable bool half_stale_ = true;  // wh_ no longer follows p_ (written from outside the update)
  hwy::AlignedFreeUniquePtr<float[]> arena_;
  float* p_ = nullptr;         // parameters
  float* g_ = nullptr;         // their gradients
  float* sum_ = nullptr;       // the gradient of several batches, summed before it goes to g_
  float* s_[S > 0 ? S : 1]{};  // optimizer state vectors, each laid out like p_
  float* step_ = nullptr;      // optimizer steps taken by each tensor (bias correction)
  float* b_ = nullptr;         // buffers (running statistics)
  float* kept_b_ = nullptr;    // skip_step: the buffers as the step found them
  float* work_[L]{};           // each layer's fixed scratch
  float* ema_ = nullptr;       // moving average of p_ (Polyak averaging), laid out like it
  float* act_[L]{};            // each non-view layer's output
  float* aux_[L]{};            // each layer's scratch
  float* out_[L]{};            // this step's output of each layer (a view's is its input's)
  float* grad_[2]{};           // ping-pong buffers for the gradients flowing backward
  float* mirror_ = nullptr;    // test_time{.hflip}: the batch mirrored, the logits of the batch
  float* first_ = nullptr;     // as it is, and their mean with the mirrored batch's
  float* mean_ = nullptr;
  int batch_ = 0;
  std::uint64_t seed_ = 0;
  long steps_ = 0;
  const rt::comm* comm_ = nullptr;       // data-parallel training's ranks (set_comm)
  const rt::comm* step_comm_ = nullptr;  // comm_ while a data-parallel step runs its layers
  bool overlap_ = false;                 // trainer_options::overlap
  bool poison_ = false;  // this rank's loss is not finite: its gradients tell the other ranks
  dsl::lr_clock clock_{};
  dsl::plateau_state plateau_{};
  double fault_lr_ = 1;  // skip_step: lr_factor to the power of the steps skipped
  long skipped_in_a_row_ = 0;
  std::vector<float> checks_;  // stop_run: the update's finiteness checks, per member and tensor
  rt::rng rng_;
  rt::model_info info_;
  std::vector<rt::tensor> tensors_;
  std::vector<std::string> names_;
  dsl::shape out_shape_[L]{};
  std::size_t out_size_[L]{};
  bool frozen_[L]{};
  double lr_mult_[L]{};
  std::size_t backward_from_ = 1;
  typename solver_for<opt_type>::type solver_ = make_solver();  // full-batch plans only
  second_order::step_report last_step_{};
};

inline std::string to_string(const dsl::shape& s) {
  std::string r = "{";
  for (int i = 0; i < s.rank; ++i) r += (i ? ", " : "") + std::to_string(s.d[i]);
  return r + "}";
}

}  // namespace codegen
}  // namespace kiln
