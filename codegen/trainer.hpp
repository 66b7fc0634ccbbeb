// The trainer generated for one (model, plan): forward and backward through the layer ops, the
// loss, and the fused update of every parameter tensor right after its gradient is known (or,
// when the plan clips by global norm, after the whole backward pass and one reduction).
// A plan with a full-batch optimizer (lbfgs, newton_cg) instead steps over a whole dataset at a
// time: a solver moves the parameters and re-evaluates the loss and gradient over the data,
// chunk by chunk.
//
// The trainer composes its parts (codegen/trainer/): its memory (arena.hpp), the names and shapes
// the runtime sees (tensor_table.hpp), the answer to non-finite values (faults.hpp), the hook of
// data-parallel training (data_parallel.hpp), transfer learning's per-layer settings
// (layer_settings.hpp), the full-batch objective (full_batch.hpp) and the ONNX form (onnx.hpp).
// The step itself — forward, backward, the fused updates — is step.hpp.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "kiln/codegen/augment.hpp"
#include "kiln/codegen/engine/ops.hpp"
#include "kiln/codegen/gemm.hpp"
#include "kiln/codegen/generate.hpp"
#include "kiln/codegen/kernels/kernels.hpp"
#include "kiln/codegen/kernels/vector.hpp"
#include "kiln/codegen/layout.hpp"
#include "kiln/codegen/test_time.hpp"
#include "kiln/codegen/trainer/arena.hpp"
#include "kiln/codegen/trainer/data_parallel.hpp"
#include "kiln/codegen/trainer/errors.hpp"
#include "kiln/codegen/trainer/faults.hpp"
#include "kiln/codegen/trainer/full_batch.hpp"
#include "kiln/codegen/trainer/layer_settings.hpp"
#include "kiln/codegen/trainer/onnx.hpp"
#include "kiln/codegen/trainer/options.hpp"
#include "kiln/codegen/trainer/tensor_table.hpp"
#include "kiln/codegen/trainer/traits.hpp"
#include "kiln/codegen/update/width.hpp"
#include "kiln/core/batch.hpp"
#include "kiln/core/error.hpp"
#include "kiln/core/rng.hpp"
#include "kiln/core/team.hpp"
#include "kiln/dsl/plan.hpp"
#include "kiln/runtime/model.hpp"

namespace kiln::codegen {

template <auto Model, auto Plan>
class trainer : public rt::model {
  using traits = trainer_traits<Model, Plan>;
  using lay = typename traits::lay;
  static constexpr std::size_t L = traits::L;
  static constexpr auto opt = traits::opt;
  using opt_type = typename traits::opt_type;
  using lr_type = std::remove_cvref_t<decltype(Plan.lr)>;
  using lr_state = dsl::schedule_state_t<lr_type>;
  static constexpr int S = traits::S;
  static constexpr bool averaged = traits::averaged;
  static constexpr auto regs = traits::regs;
  static constexpr bool skips = traits::skips;
  static constexpr bool per_layer = traits::per_layer;
  static constexpr bool flips = traits::flips;  // test-time flip averaging (test_time.hpp)
  static constexpr bool half = traits::half;    // bf16 products (engine/ops.hpp)

 public:
  // The plan's optimizer steps over whole datasets (lbfgs, newton_cg).
  static constexpr bool full_batch = traits::full_batch;

 private:
  using loss_op = typename lay::template op_at<L - 1>;

 public:
  explicit trainer(const trainer_options& o = {}) {
    batch_ = o.batch > 0 ? o.batch : Plan.batch;
    require_positive_batch(o.batch);
    seed_ = o.seed_set ? o.seed : Plan.seed;
    dp_.set_overlap(o.overlap);
    if constexpr (half) precision_ = engine::effective(engine::precision::bf16);
    choose_update_loops(o.update_target);
    set_threads(o.threads);
    mem_.allocate(batch_);
    table_.describe(mem_, batch_, seed_);
    layers_.plan_backward();
    reset();
    for (const layer_options& l : o.layers) configure(l);
  }
  // Movable (the arena moves, the pointers into it stay valid); not copyable.
  trainer(trainer&&) noexcept = default;
  trainer& operator=(trainer&&) noexcept = default;

  // Fresh weights from the seed (PyTorch's default initialization), zero optimizer state, step 0.
  void reset() {
    mem_.reset(seed_);
    solver_.reset();
    rng_ = rt::rng(seed_, rt::streams::dropout);
    half_stale_ = true;
    steps_ = 0;
    clock_ = {};
    lr_state_ = {};
    faults_.reset();
  }

  // --- rt::model ------------------------------------------------------------------------------
  const rt::model_info& info() const override { return table_.info(); }
  std::span<const rt::tensor> tensors() const override {
    half_stale_ = true;  // the caller may write the weights: the bf16 copy follows before use
    return table_.tensors();
  }
  void set_threads(int threads) override {
    require_threads(threads);
    single_threaded_blas();
    if (!team_ || team_->size() != threads) {
      team_ = std::make_unique<rt::team>(threads);
      // The products for this batch and team, made once here, reused by every step.
      engine::prepare_ops<lay>(prims_, {batch_, threads, precision_});
    }
    faults_.set_threads(threads);
  }
  void begin_epoch(int epoch, long steps_per_epoch) override {
    clock_.epoch = epoch;
    clock_.steps_per_epoch = std::max(steps_per_epoch, 1L);
    half_stale_ = true;
  }
  double current_lr() const override {
    if constexpr (requires { opt.lr; })
      return opt.lr *
             dsl::lr_factor(Plan.lr, {clock_.epoch, steps_, clock_.steps_per_epoch}, lr_state_) *
             faults_.lr_factor();
    else
      return std::numeric_limits<double>::quiet_NaN();  // newton_cg has no learning rate
  }
  // Schedules that keep a state (reduce_on_plateau) see the epoch's metrics here.
  static constexpr bool reacts_to_metrics = dsl::stateful_schedule<lr_type>;
  void end_epoch(const rt::epoch_metrics& m) override {
    const dsl::epoch_report r{m.train_loss, m.train_accuracy, m.test_loss, m.test_accuracy};
    if constexpr (reacts_to_metrics) Plan.lr.observe(lr_state_, r);
  }
  rt::augment_plan augmentation() const override { return runtime_plan<Plan.augment>(); }

  // A full-batch plan takes one full-batch step on this batch alone. A non-finite loss or
  // gradient stops the run (stop_run: kiln::numeric_error) or skips the step (skip_step).
  rt::step_result train_step(const rt::batch& b) override;

  // Data-parallel training over the ranks of `c` (rt::fit sets it); nullptr or one rank: alone.
  void set_comm(const rt::comm* c) override { dp_.set_comm(c, full_batch); }

  rt::step_result eval_step(const rt::batch& b, float* outputs) override {
    if constexpr (flips) {
      flip_averaged(b, mem_.mean);
      op_args c = loss_args(b);
      c.x = mem_.mean;
      const rt::step_result r = loss_op::loss_forward(c, b);
      if (outputs) std::memcpy(outputs, mem_.mean, sizeof(float) * b.n * info().outputs);
      return r;
    }
    const rt::step_result r = loss(b, false);
    if (outputs) std::memcpy(outputs, mem_.out[L - 2], sizeof(float) * b.n * info().outputs);
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
  // Every layer's to_onnx in order (trainer/onnx.hpp). Under test_time{.hflip} the graph runs
  // the batch and its mirror image as one batch of 2N and averages the two halves, as infer()
  // does (codegen/test_time.hpp).
  std::string to_onnx(rt::onnx_graph& g, const std::string& input) const override {
    std::string x = input;
    if constexpr (flips) x = onnx_with_mirror(g, x);
    x = export_layers(g, x, mem_, table_);
    if constexpr (flips) x = onnx_mean_of_halves(g, x, info().outputs);
    return x;
  }

  // Identifies (Model, Plan) as the compiler spells them: a checkpoint loads only into the
  // trainer generated for the same declaration.
  std::string fingerprint() const override { return tensor_table<traits>::fingerprint(); }
  bool swap_averaged_weights() override {
    if constexpr (averaged) std::swap_ranges(mem_.p, mem_.p + lay::params, mem_.ema);
    half_stale_ = true;
    return averaged;
  }
  rt::resume_state save_resume_state() const override {
    rt::resume_state s;
    s.steps = steps_;
    std::copy(rng_.state(), rng_.state() + 4, s.rng.begin());
    const auto kept = lr_state_.save();  // the schedule's own state, if it keeps one
    s.schedule.assign(kept.begin(), kept.end());
    s.fault_lr = faults_.lr_factor();
    s.skipped_in_a_row = faults_.skipped_in_a_row();
    s.update_loops = update_loops();
    return s;
  }
  void load_resume_state(const rt::resume_state& s) override {
    steps_ = s.steps;
    std::uint64_t words[4];
    std::copy(s.rng.begin(), s.rng.end(), words);
    rng_.set_state(words);
    require_schedule_state(Plan.lr.kind, lr_state::values, s.schedule.size());
    lr_state_ = lr_state::load(s.schedule.data());
    faults_.restore(s.fault_lr, s.skipped_in_a_row);
    // Older checkpoints name no loops: this run's own choice stays.
    if (!s.update_loops.empty())
      apply_recorded_targets(s.update_loops, compiled_targets(), update_targets_);
  }
  // The Highway target of each parameter tensor's fused update, comma-separated in tensors()
  // order (update/width.hpp).
  std::string update_loops() const { return target_names(update_targets_); }

  // --- transfer learning ----------------------------------------------------------------------
  // Applies one layer_options entry (see trainer_options::layers); may change between epochs.
  void configure(const layer_options& l) {
    const std::size_t first = table_.layer_index(l.from);
    const std::size_t last = l.to.empty() ? first : table_.layer_index(l.to);
    layers_.apply(l, first, last);
  }
  void freeze(std::string_view from, std::string_view to = {}) {
    configure({std::string(from), std::string(to), true, 1});
  }
  bool frozen(std::string_view layer) const { return layers_.frozen(table_.layer_index(layer)); }
  double lr_mult(std::string_view layer) const {
    return layers_.lr_mult(table_.layer_index(layer));
  }

  // Feature extraction: the output of `layer` for the batch, in evaluation mode (n × the
  // layer's output size floats into `out`). Only the layers up to it run.
  void features(const rt::batch& b, std::string_view layer, float* out) {
    require_fits(b);
    const std::size_t last = table_.layer_index(layer);
    if (!lay::materialized[last])
      throw config_error("layer", "'" + std::string(layer) +
                                      "' runs fused with the layers after it (conv2d | relu, "
                                      "| max_pool 2x2): its own output is never stored; take the "
                                      "features after that chain");
    forward(b, false, last, false);
    std::memcpy(out, mem_.out[last], sizeof(float) * std::size_t(b.n) * table_.out_size(last));
  }
  // The shape of one sample of `layer`'s output.
  std::vector<int> output_shape(std::string_view layer) const {
    const dsl::shape s = table_.out_shape(table_.layer_index(layer));
    return {s.d, s.d + s.rank};
  }

  // --- for users ------------------------------------------------------------------------------
  // The loss of a batch (summed over samples), in training or evaluation mode; changes nothing
  // (running statistics stay; random masks are those the next gradient() would draw).
  rt::step_result loss(const rt::batch& b, bool train) {
    require_fits(b);
    forward(b, train, L - 2, false);
    return loss_op::loss_forward(loss_args(b), b);
  }

  // The network's outputs (what the loss sees) for a batch, n × outputs floats, valid until the
  // next call; in training mode with this step's draws (masks, drops, regions). Changes nothing.
  std::span<const float> outputs(const rt::batch& b, bool train) {
    require_fits(b);
    forward(b, train, L - 2, false);
    return {mem_.out[L - 2], std::size_t(b.n) * std::size_t(info().outputs)};
  }

  // Forward and backward in training mode: gradients() receives d(mean loss)/d(parameters);
  // no update, the step count unchanged (so the random masks are the same on every call).
  // Running statistics move as in a training step. (Full-batch methods and gradient checks.)
  rt::step_result gradient(const rt::batch& b) {
    require_fits(b);
    forward(b, true, L - 2, true);
    const rt::step_result r = loss_op::loss_forward(loss_args(b), b);
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
        kernels::scale(share, mem_.g, mem_.sum, lay::params);
      else
        kernels::axpy(share, mem_.g, mem_.sum, lay::params);
    }
    std::memcpy(mem_.g, mem_.sum, sizeof(float) * lay::params);
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
    v.value = add_objective_terms<traits>(v.data.loss_sum / samples_in(data), mem_.p, mem_.g,
                                          layers_.frozen());
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
      for (const rt::batch& b : data) require_fits(b);
      if constexpr (requires { opt.lr; }) solver_.set_lr(current_lr());
      ++steps_;
      full_batch_objective<trainer> f(*this, data);
      last_step_ = solver_.step(f);
      // After the step: its cost dwarfs one pass over the parameters.
      const rt::step_result start = f.start();
      if (!std::isfinite(start.loss_sum)) nonfinite({fault::loss, 0, start.loss_sum});
      if (!std::isfinite(kernels::sum_squares(mem_.p, lay::params)))
        nonfinite({fault::weights, first_nonfinite(mem_.p)});
      return start;
    }
  }

  // Full-batch plans: the solver (its counters, options), what the last step did, and a function
  // called after every iteration (progress, loss-versus-time traces).
  const auto& solver() const requires full_batch { return solver_; }
  const second_order::step_report& last_step() const requires full_batch { return last_step_; }
  void observe(second_order::observer o) requires full_batch { solver_.observe(std::move(o)); }

  // A parameter or state tensor by name ("fc1.weight", "fc1.weight.momentum_buffer",
  // "fc1.weight.step").
  std::span<float> tensor(std::string_view name) {
    half_stale_ = true;
    return table_.tensor(name);
  }
  // The parameter arena (every tensor, in order, 64-byte aligned with zero padding between) and
  // the gradient arena laid out the same way.
  std::span<float> parameters() {
    half_stale_ = true;
    return {mem_.p, lay::params};
  }
  std::span<float> gradients() { return {mem_.g, lay::params}; }
  // The buffer arena (running statistics), laid out like the parameters.
  std::span<float> buffers() { return {mem_.b, lay::buffer_floats}; }
  long steps() const { return steps_; }
  int batch() const { return batch_; }

  static constexpr long parameter_count = dsl::param_count(Model);

 private:
  // --- the step (step.hpp) --------------------------------------------------------------------
  // Data-parallel: this rank's part of a global batch, its gradients summed over the ranks.
  rt::step_result parallel_step(const rt::batch& b);
  rt::step_result reduced_step(const rt::batch& b) requires(!full_batch);
  // Runs layers 1..last (the loss is not one of them). `commit`: running statistics move.
  void forward(const rt::batch& b, bool train, std::size_t last, bool commit);
  template <bool Update>
  void backward(const rt::batch& b, double lr);
  template <bool Update>
  float* backward_layer(std::size_t layer, const rt::batch& b, float* dy, double lr);
  // Each layer's forward and backward as a pointer (indexed by layer; null for the input, the
  // loss and views), so that the passes are loops at run time: one per trainer, not one block of
  // argument set-up per layer (what a trainer costs to compile).
  using pass = void (*)(const op_args&);
  template <class Op, bool Forward>
  static constexpr pass pass_of() {
    if constexpr (Op::view)
      return nullptr;
    else if constexpr (Forward)
      return &Op::forward;
    else
      return &Op::backward;
  }
  template <bool Forward>
  static constexpr auto passes = []<std::size_t... I>(std::index_sequence<I...>) {
    return std::array<pass, L>{nullptr, pass_of<typename lay::template op_at<I + 1>, Forward>()...};
  }
  (dsl::index_for<L - 2>{});
  // What every pass gives layer i: its input, parameters, buffers, scratch and engine objects.
  op_args layer_args(std::size_t i, const rt::batch& b);
  // The fused update of every tensor of layers [first, last]: one layer's during the backward
  // pass, or every layer's after it when the plan clips by global norm or skips non-finite
  // steps. Indices at run time, not template arguments: one instance per trainer, not one per
  // layer and tensor (what a trainer costs to compile; the loops themselves are the tables').
  void update_layers(std::size_t first, std::size_t last, double lr, double clip);
  template <bool Decay>  // the tensor's weight decay (the plan's .decay and its spec)
  void update_tensor(std::size_t tensor, double lr, double clip, int member);
  static constexpr bool decays(std::size_t tensor) {
    return Plan.decay == dsl::decay_on::all || lay::tensors[tensor].spec.decay;
  }
  double trainable_sum_squares() const;
  static double clip_scale(double norm);
  // The compiled targets this CPU supports now (tests may restrict them), in this trainer's TU.
  // The static target always: dispatch falls back to it when none of the others is allowed.
  static std::int64_t compiled_targets() {
    return (hwy::SupportedTargets() & HWY_TARGETS) | HWY_STATIC_TARGET;
  }
  // Each tensor's update target: from this CPU and the tensor's traffic, or the one named.
  void choose_update_loops(const std::string& named) {
    static constexpr auto sizes = [] {
      std::array<std::size_t, lay::tensor_count> n{};
      for (std::size_t t = 0; t < n.size(); ++t)
        n[t] = std::size_t(lay::tensors[t].spec.dims.size());
      return n;
    }();
    choose_update_targets(sizes, S, averaged, half, named, compiled_targets(), update_targets_);
  }
  op_args step_args(const rt::batch& b) const;
  op_args loss_args(const rt::batch& b);

  // --- faults (faults.hpp) --------------------------------------------------------------------
  rt::step_result nonfinite(const fault& f) {
    return faults_.nonfinite(f, steps_, table_.tensors(), mem_);
  }
  std::size_t first_nonfinite(const float* arena) const {
    return fault_policy<traits>::first_nonfinite(arena, layers_.frozen());
  }

  // test_time{.hflip}: the mean of the evaluation-mode logits of b and of its mirror image.
  void flip_averaged(const rt::batch& b, float* mean) {
    require_fits(b);
    flip_averaged_logits<lay::in[0]>(b, std::size_t(info().outputs), mem_.mirror, mem_.first, mean,
                                     [&](const rt::batch& v) {
                                       forward(v, false, L - 2, false);
                                       return static_cast<const float*>(mem_.out[L - 2]);
                                     });
  }

  void require_fits(const rt::batch& b) const { codegen::require_fits(b.n, batch_); }
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

  arena<traits> mem_;
  tensor_table<traits> table_;
  layer_settings<traits> layers_;
  fault_policy<traits> faults_;
  data_parallel dp_;
  std::unique_ptr<rt::team> team_;
  engine::holder prims_[L];  // each op's engine objects (its products), for batch_ and team_
  engine::precision precision_ = engine::precision::f32;  // what the products run in
  mutable bool half_stale_ = true;  // mem_.wh no longer follows mem_.p (written from outside)
  rt::rng rng_;
  int batch_ = 0;
  std::uint64_t seed_ = 0;
  long steps_ = 0;
  dsl::lr_clock clock_{};
  lr_state lr_state_{};  // the learning-rate schedule's own (reduce_on_plateau's)
  typename solver_for<opt_type>::type solver_ = make_solver();  // full-batch plans only
  second_order::step_report last_step_{};
  std::array<std::int64_t, lay::tensor_count> update_targets_{};  // see choose_update_loops
};

}  // namespace kiln::codegen

#include "kiln/codegen/trainer/step.hpp"
