// reduce_on_plateau: PyTorch's ReduceLROnPlateau (threshold_mode 'rel'), fed once per epoch with
// the metric the runtime measured: when it has not improved by more than `threshold` (relative)
// for `patience` epochs, the lr is multiplied by `gamma` (PyTorch's `factor`; not below
// min_factor·lr), then
// `cooldown` epochs pass before counting again. The monitored metric's direction follows from
// it: losses must fall (mode 'min'), accuracies rise (mode 'max'). Test metrics fall back to the
// training ones when there is no test set.
#pragma once

#include <array>
#include <cmath>
#include <cstddef>

#include "kiln/dsl/lr/schedules.hpp"

namespace kiln::dsl {

enum class monitor { test_loss, test_accuracy, train_loss, train_accuracy };

// What reduce_on_plateau keeps between epochs (the trainer holds it; checkpoints save it).
struct plateau_state {
  bool started = false;
  double best = 0;
  int bad_epochs = 0;
  int cooldown = 0;
  double factor = 1;

  static constexpr std::size_t values = 5;
  constexpr std::array<double, values> save() const {
    return {double(started), best, double(bad_epochs), double(cooldown), factor};
  }
  static constexpr plateau_state load(const double* v) {
    return {v[0] != 0, v[1], int(v[2]), int(v[3]), v[4]};
  }
};

struct reduce_on_plateau {
  static constexpr std::string_view kind = "reduce_on_plateau";
  double gamma = 0.1;
  int patience = 10;
  double threshold = 1e-4;
  int cooldown = 0;
  double min_factor = 0;  // min_lr / lr
  monitor metric = monitor::test_loss;

  using state = plateau_state;
  constexpr double factor(lr_clock, const state& s) const { return s.factor; }

  static constexpr bool maximize(monitor m) {
    return m == monitor::test_accuracy || m == monitor::train_accuracy;
  }
  static double pick(monitor m, const epoch_report& r) {
    switch (m) {
      case monitor::test_loss:
        return std::isnan(r.test_loss) ? r.train_loss : r.test_loss;
      case monitor::test_accuracy:
        return std::isnan(r.test_accuracy) ? r.train_accuracy : r.test_accuracy;
      case monitor::train_loss:
        return r.train_loss;
      case monitor::train_accuracy:
        return r.train_accuracy;
    }
    return r.train_loss;
  }

  void observe(plateau_state& s, const epoch_report& r) const {
    const double v = pick(metric, r);
    const bool better = !s.started || (maximize(metric) ? v > s.best * (1 + threshold)
                                                        : v < s.best * (1 - threshold));
    if (better) {
      s.started = true, s.best = v, s.bad_epochs = 0;
    } else {
      ++s.bad_epochs;
    }
    if (s.cooldown > 0) --s.cooldown, s.bad_epochs = 0;
    if (s.bad_epochs > patience) {
      s.factor = s.factor * gamma > min_factor ? s.factor * gamma : min_factor;
      s.cooldown = cooldown, s.bad_epochs = 0;
    }
  }
  constexpr const char* check() const {
    if (!(gamma > 0 && gamma < 1)) return "reduce_on_plateau: .gamma must be in (0, 1)";
    if (patience < 0) return "reduce_on_plateau: .patience must be >= 0";
    if (!(threshold >= 0)) return "reduce_on_plateau: .threshold must be >= 0";
    if (cooldown < 0) return "reduce_on_plateau: .cooldown must be >= 0";
    if (!(min_factor >= 0 && min_factor <= 1))
      return "reduce_on_plateau: .min_factor must be in [0, 1]";
    return nullptr;
  }
};

}  // namespace kiln::dsl
