// Learning-rate schedules: a factor applied to the optimizer's lr, computed once per step from
// where training is (never per element).
#pragma once

#include <array>
#include <concepts>
#include <cstddef>
#include <string_view>
#include <type_traits>

namespace kiln::dsl {

// Where training is when a step starts.
struct lr_clock {
  int epoch = 0;  // 0-based
  long step = 0;  // steps taken before this one, over the whole run
  long steps_per_epoch = 1;

  // Epochs done, with the fraction of the current one: what PyTorch's per-batch
  // scheduler.step(epoch + i / iters) receives.
  constexpr double epochs() const {
    const long in_epoch = step - long(epoch) * steps_per_epoch;
    return epoch + double(in_epoch < 0 ? 0 : in_epoch) / double(steps_per_epoch);
  }
};

// What the runtime measured in the epoch that ended (NaN: not measured, e.g. no test set), for
// schedules that react to it (reduce_on_plateau).
struct epoch_report {
  double train_loss = 0, train_accuracy = 0, test_loss = 0, test_accuracy = 0;
};

// What a schedule that reacts to the epochs' metrics keeps between epochs (reduce_on_plateau):
// its own `state` type, which the trainer holds, passes to factor(clock, state) and
// observe(state&, report), and saves and loads (checkpoints, data-parallel broadcasts) as
// `values` numbers through save() and load(). A schedule without one has no_schedule_state.
struct no_schedule_state {
  static constexpr std::size_t values = 0;
  constexpr std::array<double, 0> save() const { return {}; }
  static constexpr no_schedule_state load(const double*) { return {}; }
};

template <class S>
struct schedule_state {
  using type = no_schedule_state;
};
template <class S>
requires requires { typename S::state; }
struct schedule_state<S> {
  using type = typename S::state;
};
template <class S>
using schedule_state_t = typename schedule_state<S>::type;

// The state's interface: a fixed number of values out and back.
template <class T>
concept schedule_state_values = requires(const T& t, const double* v) {
  { T::values } -> std::convertible_to<std::size_t>;
  { t.save() } -> std::same_as<std::array<double, T::values>>;
  { T::load(v) } -> std::same_as<T>;
};

// A learning-rate schedule: a kind (its name in messages), a check of its values, and a factor
// from where training is — and from its state, for a schedule that keeps one (then it also
// observes the epochs' metrics).
template <class S>
concept lr_schedule = requires(const S& s, lr_clock c, schedule_state_t<S>& state,
                               const epoch_report& r) {
  { S::kind } -> std::convertible_to<std::string_view>;
  { s.check() } -> std::same_as<const char*>;
  requires(std::is_same_v<schedule_state_t<S>, no_schedule_state> &&
           requires {
             { s.factor(c) } -> std::convertible_to<double>;
           }) ||
      (schedule_state_values<schedule_state_t<S>> && requires {
        { s.factor(c, state) } -> std::convertible_to<double>;
        s.observe(state, r);
      });
};

// Whether S keeps a state between epochs.
template <class S>
inline constexpr bool stateful_schedule = !std::is_same_v<schedule_state_t<S>, no_schedule_state>;

// The factor of schedule `s` at `c`, with its state when it keeps one.
template <class S>
constexpr double lr_factor(const S& s, lr_clock c, const schedule_state_t<S>& state) {
  if constexpr (stateful_schedule<S>)
    return s.factor(c, state);
  else
    return s.factor(c);
}

// The optimizer's lr, unchanged.
struct constant_lr {
  static constexpr std::string_view kind = "constant";
  constexpr double factor(lr_clock) const { return 1.0; }
  constexpr const char* check() const { return nullptr; }
};

// lr · gamma^⌊epoch / every_epochs⌋: PyTorch's StepLR stepped once per epoch.
struct step_decay {
  static constexpr std::string_view kind = "step_decay";
  int every_epochs = 1;
  double gamma = 0.1;
  constexpr double factor(lr_clock c) const {
    double f = 1.0;
    for (int k = c.epoch / every_epochs; k > 0; --k) f *= gamma;
    return f;
  }
  constexpr const char* check() const {
    if (every_epochs <= 0) return "step_decay: .every_epochs must be positive";
    if (!(gamma > 0 && gamma <= 1)) return "step_decay: .gamma must be in (0, 1]";
    return nullptr;
  }
};

}  // namespace kiln::dsl
