// Learning-rate schedules: a factor applied to the optimizer's lr, computed once per step from
// where training is (never per element).
#pragma once

#include <concepts>
#include <string_view>

namespace kiln::dsl {

// Where training is when a step starts.
struct lr_clock {
  int epoch = 0;  // 0-based
  long step = 0;  // steps taken before this one, over the whole run
  long steps_per_epoch = 1;
  double plateau = 1;  // reduce_on_plateau's factor so far (from the epochs' metrics)

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

template <class S>
concept lr_schedule = requires(const S& s, lr_clock c) {
  { S::kind } -> std::convertible_to<std::string_view>;
  { s.factor(c) } -> std::convertible_to<double>;
  { s.check() } -> std::same_as<const char*>;
};

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
