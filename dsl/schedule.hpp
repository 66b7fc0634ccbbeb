// The training plan: optimizer, regularizers, learning-rate schedule, data augmentation,
// epochs, batch and seed.
// A literal aggregate: `schedule{.optimizer = sgd{.lr = 0.05}, .epochs = 10}` deduces its type.
#pragma once

#include <concepts>
#include <cstdint>
#include <string_view>
#include <type_traits>

#include "kiln/dsl/augment/augment.hpp"
#include "kiln/dsl/ensemble.hpp"
#include "kiln/dsl/lr/cyclic_cosine.hpp"
#include "kiln/dsl/lr/schedules.hpp"
#include "kiln/dsl/model.hpp"
#include "kiln/dsl/regularize/regularizers.hpp"

namespace kiln::dsl {

template <class O>
concept optimizer = requires(const O& o) {
  { O::kind } -> std::convertible_to<std::string_view>;
  { o.states() } -> std::convertible_to<int>;
  { o.check() } -> std::same_as<const char*>;
};

template <optimizer Opt, class Reg = no_regularizer, lr_schedule Lr = constant_lr,
          class Aug = no_augment>
struct schedule {
  Opt optimizer;
  Reg regularizer{};
  Lr lr{};
  Aug augment{};  // one augmentation, or several joined with |
  int epochs = 10;
  int batch = 64;
  std::uint64_t seed = 0;
  ::kiln::dsl::ensemble ensemble{};  // one model unless told otherwise (dsl/ensemble.hpp)
};

// Validation of a plan, reported like a model error: the note names the part and the problem.
template <auto Part, text_t Problem>
inline constexpr bool invalid_plan = false;

template <auto Plan>
constexpr bool report_plan() {
  constexpr const char* general = Plan.epochs <= 0  ? "schedule: .epochs must be positive"
                                  : Plan.batch <= 0 ? "schedule: .batch must be positive"
                                                    : nullptr;
  if constexpr (general != nullptr)
    static_assert(invalid_plan<Plan.epochs, text_t(general)>, "kiln: invalid plan (see the note)");
  constexpr const char* opt = Plan.optimizer.check();
  if constexpr (opt != nullptr)
    static_assert(invalid_plan<Plan.optimizer, text_t(opt)>, "kiln: invalid plan (see the note)");
  constexpr const char* lr = Plan.lr.check();
  if constexpr (lr != nullptr)
    static_assert(invalid_plan<Plan.lr, text_t(lr)>, "kiln: invalid plan (see the note)");
  constexpr auto regs = as_regs(Plan.regularizer);
  constexpr const char* reg = [&]<std::size_t... I>(std::index_sequence<I...>) {
    const char* first = nullptr;
    ((first = first ? first : at<I>(regs).check()), ...);
    return first;
  }
  (index_for<regs.size>{});
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
  constexpr auto augs = as_augments(Plan.augment);
  constexpr const char* aug = [&]<std::size_t... I>(std::index_sequence<I...>) {
    const char* first = nullptr;
    ((first = first ? first : at<I>(augs).check()), ...);
    return first;
  }(index_for<augs.size>{});
  if constexpr (aug != nullptr)
    static_assert(invalid_plan<Plan.augment, text_t(aug)>, "kiln: invalid plan (see the note)");
  return !general && !opt && !lr && !reg && !ens && !snap && !aug;
}

}  // namespace kiln::dsl
