// The training plan: optimizer, regularizers, which tensors decay, learning-rate schedule,
// data augmentation, epochs, batch and seed. A literal aggregate: `training_plan{.optimizer =
// sgd{.lr = 0.05}, .epochs = 10}` deduces its type.
#pragma once

#include <concepts>
#include <cstdint>
#include <string_view>
#include <type_traits>

#include "kiln/dsl/augment/augment.hpp"
#include "kiln/dsl/ensemble.hpp"
#include "kiln/dsl/faults.hpp"
#include "kiln/dsl/lr/cyclic_cosine.hpp"
#include "kiln/dsl/layers/residual.hpp"
#include "kiln/dsl/lr/schedules.hpp"
#include "kiln/dsl/model.hpp"
#include "kiln/dsl/optim/optimizers.hpp"
#include "kiln/dsl/optim/second_order.hpp"
#include "kiln/dsl/precision.hpp"
#include "kiln/dsl/regularize/regularizers.hpp"
#include "kiln/dsl/test_time.hpp"

namespace kiln::dsl {

template <class O>
concept optimizer = requires(const O& o) {
  { O::kind } -> std::convertible_to<std::string_view>;
  { o.states() } -> std::convertible_to<int>;
  { o.check() } -> std::same_as<const char*>;
};

// Which tensors take weight decay: the optimizer's weight_decay and the penalty regularizers
// (l2, l1). By default only weights, as AdamW users set up with parameter groups; biases and
// normalization parameters (a layer declares them with `decay = false`) opt out. `all` is
// PyTorch's behaviour when every parameter is in one group.
enum class decay_on { weights, all };

// The members, one list for training_plan and its deprecated spelling (dsl/schedule.hpp).
#define KILN_TRAINING_PLAN_MEMBERS                                                             \
  Opt optimizer;                                                                               \
  Reg regularizer{};                                                                           \
  decay_on decay = decay_on::weights;                                                          \
  Lr lr{};                                                                                     \
  Aug augment{}; /* one augmentation, or several joined with | */                              \
  int epochs = 10;                                                                             \
  int batch = 64;                                                                              \
  std::uint64_t seed = 0;                                                                      \
  ::kiln::dsl::ensemble ensemble{}; /* one model unless told otherwise (dsl/ensemble.hpp) */   \
  Fault nonfinite{}; /* a NaN or infinite loss or gradient: stop_run or skip_step */           \
  ::kiln::dsl::test_time test_time{};         /* evaluation: flip averaging (test_time.hpp) */ \
  numeric_type precision = numeric_type::f32; /* kiln::bf16: products in bf16 (precision.hpp) */

template <optimizer Opt, class Reg = no_regularizer, class Lr = constant_lr, class Aug = no_augment,
          nonfinite_policy Fault = stop_run>
struct training_plan {
  KILN_TRAINING_PLAN_MEMBERS
};

// Validation of a plan, reported like a model error: the note names the part and the problem.
template <auto Part, text_t Problem>
inline constexpr bool invalid_plan = false;

template <auto Plan>
constexpr bool report_plan() {
  constexpr const char* general = Plan.epochs <= 0  ? "training_plan: .epochs must be positive"
                                  : Plan.batch <= 0 ? "training_plan: .batch must be positive"
                                                    : nullptr;
  if constexpr (general != nullptr)
    static_assert(invalid_plan<Plan.epochs, text_t(general)>, "kiln: invalid plan (see the note)");
  constexpr const char* opt = Plan.optimizer.check();
  if constexpr (opt != nullptr)
    static_assert(invalid_plan<Plan.optimizer, text_t(opt)>, "kiln: invalid plan (see the note)");
  // A learning-rate schedule (dsl::lr_schedule), checked here so that a type that is not one
  // gets one line naming it rather than a failed constraint on the plan's type.
  constexpr bool is_lr_schedule = lr_schedule<std::remove_cvref_t<decltype(Plan.lr)>>;
  if constexpr (!is_lr_schedule)
    static_assert(invalid_plan<Plan.lr, text_t("lr: not a learning-rate schedule: it needs kind, "
                                               "check() and factor(lr_clock) (dsl/lr/)")>,
                  "kiln: invalid plan (see the note)");
  constexpr const char* lr = [] {
    if constexpr (is_lr_schedule)
      return Plan.lr.check();
    else
      return static_cast<const char*>(nullptr);
  }();
  if constexpr (lr != nullptr)
    static_assert(invalid_plan<Plan.lr, text_t(lr)>, "kiln: invalid plan (see the note)");
  constexpr auto regs = as_regs(Plan.regularizer);
  constexpr const char* reg = [&] {
    const char* first = regs.check();
    for_each_index<regs.size>([&]<std::size_t I>(index_c<I>) {
      if (!first) first = at<I>(regs).check();
    });
    return first;
  }();
  if constexpr (reg != nullptr)
    static_assert(invalid_plan<Plan.regularizer, text_t(reg)>, "kiln: invalid plan (see the note)");
  constexpr const char* ens = Plan.ensemble.check();
  if constexpr (ens != nullptr)
    static_assert(invalid_plan<Plan.ensemble, text_t(ens)>, "kiln: invalid plan (see the note)");
  constexpr const char* snap =
      Plan.ensemble.snapshots &&
              !std::is_same_v<std::remove_cvref_t<decltype(Plan.lr)>, cyclic_cosine>
          ? "ensemble: .snapshots needs .lr = cyclic_cosine{...} (a snapshot ends each cycle)"
          : nullptr;
  if constexpr (snap != nullptr)
    static_assert(invalid_plan<Plan.ensemble, text_t(snap)>, "kiln: invalid plan (see the note)");
  constexpr const char* fault =
      Plan.nonfinite.check() ? Plan.nonfinite.check()
      : full_batch_optimizer<std::remove_cvref_t<decltype(Plan.optimizer)>> &&
              decltype(Plan.nonfinite)::skips
          ? "skip_step: full-batch plans (lbfgs, newton_cg) take one step per epoch; use stop_run"
          : nullptr;
  if constexpr (fault != nullptr)
    static_assert(invalid_plan<Plan.nonfinite, text_t(fault)>, "kiln: invalid plan (see the note)");
  constexpr const char* full_batch = check_full_batch(
      Plan.optimizer, regs, Plan.lr, Plan.ensemble.ema, as_augments(Plan.augment).size);
  if constexpr (full_batch != nullptr)
    static_assert(invalid_plan<Plan.optimizer, text_t(full_batch)>,
                  "kiln: invalid plan (see the note)");
  constexpr auto augs = as_augments(Plan.augment);
  constexpr const char* aug = [&] {
    const char* first = nullptr;
    for_each_index<augs.size>([&]<std::size_t I>(index_c<I>) {
      if (!first) first = at<I>(augs).check();
    });
    return first;
  }();
  if constexpr (aug != nullptr)
    static_assert(invalid_plan<Plan.augment, text_t(aug)>, "kiln: invalid plan (see the note)");
  return !general && !opt && is_lr_schedule && !lr && !reg && !ens && !snap && !fault &&
         !full_batch && !aug;
}

// Whether a layer draws at random in training (masks, regions, skipped blocks: the trait
// dsl::random_layer, and stochastic depth), looking one level into residual blocks.
template <class L>
constexpr bool draws_at_random(const L& l) {
  if constexpr (requires {
                  l.body;
                  l.depth;
                }) {
    if (!std::is_same_v<std::remove_cvref_t<decltype(l.depth)>, no_stochastic_depth>) return true;
    return any_index<std::remove_cvref_t<decltype(l.body)>::size>(
        [&]<std::size_t I>(index_c<I>) { return draws_at_random(at<I>(l.body)); });
  } else {
    return random_layer<L>;
  }
}

// What neither the model nor the plan can say alone: a full-batch solver's line search compares
// the objective at several points, so the objective must not change between evaluations.
template <auto Model, auto Plan>
constexpr bool report_pairing() {
  constexpr const char* tta = Plan.test_time.check(in_shapes(Model)[0]);
  if constexpr (tta != nullptr) {
    static_assert(invalid_plan<Plan.test_time, text_t(tta)>, "kiln: invalid plan (see the note)");
    return false;
  }
  if constexpr (full_batch_optimizer<std::remove_cvref_t<decltype(Plan.optimizer)>>) {
    constexpr bool random = any_index<Model.size>(
        [&]<std::size_t I>(index_c<I>) { return draws_at_random(at<I>(Model)); });
    if constexpr (random)
      static_assert(
          invalid_plan<Plan.optimizer,
                       text_t("lbfgs, newton_cg: the objective must be fixed (no dropout, "
                              "DropConnect, FMP, stochastic depth)")>,
          "kiln: invalid plan (see the note)");
    return !random;
  }
  return true;
}

}  // namespace kiln::dsl
