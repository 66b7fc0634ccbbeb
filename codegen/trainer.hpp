// The trainer generated for one (model, plan): forward and backward through the layer ops, the
// loss, and the fused update of every parameter tensor right after its gradient is known.
// All memory is one arena sized from compile-time per-sample constants and the batch size,
// allocated at construction: a training step allocates nothing.
#pragma once

#include <hwy/aligned_allocator.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "kiln/codegen/augment.hpp"
#include "kiln/codegen/generate.hpp"
#include "kiln/codegen/gemm.hpp"
#include "kiln/codegen/layout.hpp"
#include "kiln/dsl/lr/plateau.hpp"
#include "kiln/dsl/schedule.hpp"
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
  static constexpr int S = opt.states();
  static constexpr bool averaged = Plan.ensemble.ema > 0;  // keeps an EMA of the weights
  using loss_op = typename lay::template op_at<L - 1>;

 public:
  explicit trainer(const trainer_options& o = {}) {
    batch_ = o.batch > 0 ? o.batch : Plan.batch;
    if (o.batch < 0)
      throw config_error("batch", "must be positive, got " + std::to_string(o.batch));
    seed_ = o.seed_set ? o.seed : Plan.seed;
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
    for (int k = 0; k < S; ++k) std::fill(s_[k], s_[k] + lay::params, opt.state_init(k));
    if constexpr (averaged) std::copy(p_, p_ + lay::params, ema_);  // the average starts at p
    std::fill(b_, b_ + lay::buffer_floats, 0.0f);
    for (const auto& t : lay::buffers)
      if (t.spec.start == dsl::init::ones)
        std::fill(b_ + t.offset, b_ + t.offset + std::size_t(t.spec.dims.size()), 1.0f);
    rng_ = rt::rng(seed_, rt::streams::dropout);
    steps_ = 0;
    clock_ = {};
    plateau_ = {};
  }

  // --- rt::model ------------------------------------------------------------------------------
  const rt::model_info& info() const override { return info_; }
  std::span<const rt::tensor> tensors() const override { return tensors_; }
  void set_threads(int threads) override {
    if (threads < 1) throw config_error("threads", "must be at least 1");
    single_threaded_blas();
    if (!team_ || team_->size() != threads) team_ = std::make_unique<rt::team>(threads);
  }
  void begin_epoch(int epoch, long steps_per_epoch) override {
    clock_.epoch = epoch;
    clock_.steps_per_epoch = std::max(steps_per_epoch, 1L);
  }
  double current_lr() const override {
    return opt.lr * Plan.lr.factor({clock_.epoch, steps_, clock_.steps_per_epoch, clock_.plateau});
  }
  // Schedules that react to the epoch's metrics (reduce_on_plateau) see them here.
  void end_epoch(const rt::epoch_metrics& m) override {
    const dsl::epoch_report r{m.train_loss, m.train_accuracy, m.test_loss, m.test_accuracy};
    if constexpr (requires(dsl::plateau_state& s) { Plan.lr.observe(s, r); }) {
      Plan.lr.observe(plateau_, r);
      clock_.plateau = plateau_.factor;
    }
  }
  rt::augment_plan augmentation() const override { return runtime_plan<Plan.augment>(); }

  rt::step_result train_step(const rt::batch& b) override {
    check(b);
    const double lr = current_lr();
    ++steps_;
    forward(b, true, L - 2, true);
    const rt::step_result r = loss_op::loss_forward(loss_io(b), b);
    backward<true>(b, lr);
    return r;
  }

  rt::step_result eval_step(const rt::batch& b, float* outputs) override {
    const rt::step_result r = loss(b, false);
    if (outputs) std::memcpy(outputs, out_[L - 2], sizeof(float) * b.n * info_.outputs);
    return r;
  }

  // Identifies (Model, Plan) as the compiler spells them: a checkpoint loads only into the
  // trainer generated for the same declaration.
  std::string fingerprint() const override {
    char hex[17];
    std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(declaration_hash));
    return hex;
  }
  bool swap_averaged_weights() override {
    if constexpr (averaged) std::swap_ranges(p_, p_ + lay::params, ema_);
    return averaged;
  }
  rt::resume_state save_resume_state() const override {
    rt::resume_state s;
    s.steps = steps_;
    std::copy(rng_.state(), rng_.state() + 4, s.rng.begin());
    return s;
  }
  void load_resume_state(const rt::resume_state& s) override {
    steps_ = s.steps;
    std::uint64_t words[4];
    std::copy(s.rng.begin(), s.rng.end(), words);
    rng_.set_state(words);
  }

  // --- transfer learning ----------------------------------------------------------------------
  // Applies one layer_options entry (see trainer_options::layers); may change between epochs.
  void configure(const layer_options& l) {
    const std::size_t first = layer_index(l.from);
    const std::size_t last = l.to.empty() ? first : layer_index(l.to);
    if (last < first) throw config_error("layers", "'" + l.to + "' comes before '" + l.from + "'");
    if (!(l.lr_mult >= 0) || !std::isfinite(l.lr_mult))
      throw config_error("lr_mult", "must be finite and >= 0, got " + std::to_string(l.lr_mult));
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

  // --- for users ------------------------------------------------------------------------------
  // Trains with the plan's epochs, batch and seed (progress on stderr).
  rt::fit_result fit(const rt::dataset& train, const rt::dataset& test) {
    return rt::fit(*this, train, &test, {Plan.epochs, batch_, seed_, {}, true});
  }
  rt::fit_result fit(const rt::dataset& train, const rt::dataset* test, rt::fit_options o) {
    return rt::fit(*this, train, test, o);
  }

  // A parameter or state tensor by name ("fc1.weight", "fc1.weight.momentum_buffer").
  std::span<float> tensor(std::string_view name) {
    for (auto& t : tensors_)
      if (t.name == name) return t.data;
    throw config_error("tensor", "no tensor named '" + std::string(name) + "'");
  }
  // The parameter arena (every tensor, in order, 64-byte aligned with zero padding between) and
  // the gradient arena laid out the same way.
  std::span<float> parameters() { return {p_, lay::params}; }
  std::span<float> gradients() { return {g_, lay::params}; }
  // The buffer arena (running statistics), laid out like the parameters.
  std::span<float> buffers() { return {b_, lay::buffer_floats}; }
  long steps() const { return steps_; }
  int batch() const { return batch_; }

  static constexpr long parameter_count = dsl::param_count(Model);

 private:
  void check(const rt::batch& b) const {
    if (b.n < 1 || b.n > batch_)
      throw config_error("batch", "a step takes 1 to " + std::to_string(batch_) + " samples, got " +
                                      std::to_string(b.n));
  }

  io loss_io(const rt::batch& b) {
    io c;
    c.team = team_.get();
    c.n = b.n;
    c.x = out_[L - 2];
    c.dx = grad_[0];
    c.aux = aux_[L - 1];
    return c;
  }

  // Runs layers 1..last (the loss is not one of them). `commit`: running statistics move.
  void forward(const rt::batch& b, bool train, std::size_t last, bool commit) {
    out_[0] = const_cast<float*>(b.x);  // the input layer is a view of the batch; never written
    // Draws depend on (seed, step) only: forward and backward of a step, and repeated
    // loss()/gradient() calls at one step, see the same masks.
    rng_ = rt::epoch_rng(seed_, rt::streams::dropout, std::uint64_t(steps_));
    [&]<std::size_t... I>(std::index_sequence<I...>) {
      ((I + 1 <= last ? forward_layer<I + 1>(b.n, train, commit) : void()), ...);
    }
    (dsl::index_for<L - 2>{});
  }

  template <std::size_t I>
  void forward_layer(int n, bool train, bool commit) {
    using op_t = typename lay::template op_at<I>;
    if constexpr (op_t::view) {
      out_[I] = out_[I - 1];
    } else {
      io c;
      c.team = team_.get();
      c.n = n;
      c.train = train;
      c.x = out_[I - 1];
      c.y = out_[I] = act_[I];
      c.w = p_ + lay::rows[I].param_base;
      c.aux = aux_[I];
      c.rng = &rng_;
      c.work = work_[I];
      c.buf = b_ + lay::rows[I].buffer_base;
      c.commit = commit;
      op_t::forward(c);
    }
  }

  template <bool Update>
  void backward(const rt::batch& b, double lr) {
    loss_op::loss_backward(loss_io(b), b);
    float* dy = grad_[0];
    // Layers before the first trainable one need no backward pass at all (a frozen body).
    [&]<std::size_t... I>(std::index_sequence<I...>) {
      ((dy = L - 2 - I >= backward_from_ ? backward_layer<L - 2 - I, Update>(b.n, dy, lr) : dy),
       ...);
    }
    (dsl::index_for<L - 2>{});
  }

  // Returns the gradient of the layer's input (for the layer before it).
  template <std::size_t I, bool Update>
  float* backward_layer(int n, float* dy, double lr) {
    using op_t = typename lay::template op_at<I>;
    if constexpr (op_t::view) {
      return dy;
    } else {
      io c;
      c.team = team_.get();
      c.n = n;
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
      op_t::backward(c);
      if constexpr (Update) {  // while its gradients are still in cache
        if (!frozen_[I]) update_layer<I>(lr * lr_mult_[I]);
      }
      return c.dx;
    }
  }

  // The fused update of every tensor of layer I, each member of the team taking whole rows.
  template <std::size_t I>
  void update_layer(double lr) {
    team_->run([&](int member) {
      [&]<std::size_t... T>(std::index_sequence<T...>) {
        ((lay::tensors[T].layer == I ? update_tensor<T>(lr, member) : void()), ...);
      }
      (dsl::index_for<lay::tensor_count>{});
    });
  }

  template <std::size_t T>
  void update_tensor(double lr, int member) {
    constexpr auto t = lay::tensors[T];
    constexpr std::size_t size = std::size_t(t.spec.dims.size());
    constexpr std::size_t row = t.spec.dims.rank > 1 ? size / std::size_t(t.spec.dims.d[0]) : 1;
    const auto part = rt::split(size, team_->size(), member, row);
    if (part.size() == 0) return;
    using cfg = update_cfg<Plan, t.spec.decay>;
    update_args<cfg> a;
    a.p = p_ + t.offset + part.lo;
    a.g = g_ + t.offset + part.lo;
    for (int k = 0; k < S; ++k) a.state[k] = s_[k] + t.offset + part.lo;
    if constexpr (averaged) a.ema = ema_ + t.offset + part.lo;
    a.n = part.size();
    a.k = optim<opt>::at({steps_, lr});
    update(a);
  }

  void allocate() {
    const auto B = std::size_t(batch_);
    std::size_t total = (2 + S + averaged) * lay::params + lay::buffer_floats + lay::work +
                        2 * aligned(B * lay::widest);
    for (std::size_t i = 0; i < L; ++i)
      total +=
          aligned(B * lay::rows[i].aux) + (lay::rows[i].view ? 0 : aligned(B * lay::rows[i].out));
    arena_ = hwy::AllocateAligned<float>(total);
    if (!arena_) throw error("kiln: cannot allocate " + std::to_string(total * 4) + " bytes");
    std::fill(arena_.get(), arena_.get() + total, 0.0f);
    float* at = arena_.get();
    auto take = [&](std::size_t n) { return std::exchange(at, at + n); };
    p_ = take(lay::params);
    g_ = take(lay::params);
    for (int k = 0; k < S; ++k) s_[k] = take(lay::params);
    b_ = take(lay::buffer_floats);
    if constexpr (averaged) ema_ = take(lay::params);
    for (auto& g : grad_) g = take(aligned(B * lay::widest));
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
    std::vector<std::string>& names = names_;
    names.resize(L);
    [&]<std::size_t... I>(std::index_sequence<I...>) {
      ((names[I] = layer_name<I>()), ...);
      ((out_shape_[I] = dsl::at<I>(Model).out(lay::in[I]), out_size_[I] = out_shape_[I].size()),
       ...);
      ((info_.summary += std::to_string(I) + " " + std::string(dsl::at<I>(Model).kind) +
                         (names[I].empty() ? "" : " '" + names[I] + "'") + ": " +
                         to_string(lay::in[I]) + " -> " + to_string(dsl::at<I>(Model).out(lay::in[I])) +
                         "\n"),
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
    for (int k = 0; k < S; ++k)
      for (const auto& t : lay::tensors)
        add(t, std::string(t.spec.name.view()) + "." + std::string(opt.state_name(k)), s_[k],
            rt::tensor_role::state);
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
  hwy::AlignedFreeUniquePtr<float[]> arena_;
  float* p_ = nullptr;         // parameters
  float* g_ = nullptr;         // their gradients
  float* s_[S > 0 ? S : 1]{};  // optimizer state vectors, each laid out like p_
  float* b_ = nullptr;         // buffers (running statistics)
  float* work_[L]{};           // each layer's fixed scratch
  float* ema_ = nullptr;       // moving average of p_ (Polyak averaging), laid out like it
  float* act_[L]{};            // each non-view layer's output
  float* aux_[L]{};            // each layer's scratch
  float* out_[L]{};            // this step's output of each layer (a view's is its input's)
  float* grad_[2]{};           // ping-pong buffers for the gradients flowing backward
  int batch_ = 0;
  std::uint64_t seed_ = 0;
  long steps_ = 0;
  dsl::lr_clock clock_{};
  dsl::plateau_state plateau_{};
  rt::rng rng_;
  rt::model_info info_;
  std::vector<rt::tensor> tensors_;
  std::vector<std::string> names_;
  dsl::shape out_shape_[L]{};
  std::size_t out_size_[L]{};
  bool frozen_[L]{};
  double lr_mult_[L]{};
  std::size_t backward_from_ = 1;
};

inline std::string to_string(const dsl::shape& s) {
  std::string r = "{";
  for (int i = 0; i < s.rank; ++i) r += (i ? ", " : "") + std::to_string(s.d[i]);
  return r + "}";
}

}  // namespace codegen
}  // namespace kiln
