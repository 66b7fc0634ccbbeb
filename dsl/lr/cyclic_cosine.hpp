// The snapshot-ensemble schedule (Huang et al., 2017, after SGDR): training is a series of
// cycles of `cycle_epochs` epochs; within each, the factor falls from its peak to `floor` along
// half a cosine, step by step, then restarts. The weights at the end of a cycle (a local minimum
// reached with a small learning rate) are one snapshot of the ensemble.
// Fast geometric ensembling (Garipov et al., 2018) is the same schedule with a long first cycle
// (`first_cycle_epochs`, from the factor 1) and short later ones restarting lower (`restart`):
// the later snapshots stay near the first minimum, as good as it, and differ from it.
#pragma once

#include <cmath>
#include <numbers>
#include <string_view>

#include "kiln/dsl/lr/schedules.hpp"

namespace kiln::dsl {

struct cyclic_cosine {
  static constexpr std::string_view kind = "cyclic_cosine";
  int cycle_epochs = 2;
  double floor = 0;
  int first_cycle_epochs = 0;  // the first cycle's length; 0: cycle_epochs
  double restart = 1;          // the factor the cycles after the first start from

  constexpr int first_cycle() const {
    return first_cycle_epochs > 0 ? first_cycle_epochs : cycle_epochs;
  }
  double factor(lr_clock c) const {
    const bool first = c.epoch < first_cycle();
    const int epoch_in_cycle = first ? c.epoch : (c.epoch - first_cycle()) % cycle_epochs;
    const long in_epoch = c.step - long(c.epoch) * c.steps_per_epoch;
    const double t = double(epoch_in_cycle * c.steps_per_epoch + in_epoch);
    const double cycle = double(first ? first_cycle() : cycle_epochs) * double(c.steps_per_epoch);
    const double peak = first ? 1 : restart;
    return floor + (peak - floor) * 0.5 * (1 + std::cos(std::numbers::pi * t / cycle));
  }
  constexpr const char* check() const {
    if (cycle_epochs < 1) return "cyclic_cosine: .cycle_epochs must be positive";
    if (!(floor >= 0 && floor < 1)) return "cyclic_cosine: .floor must be in [0, 1)";
    if (first_cycle_epochs < 0)
      return "cyclic_cosine: .first_cycle_epochs must be positive (or 0: .cycle_epochs)";
    if (!(restart > floor && restart <= 1)) return "cyclic_cosine: .restart must be in (.floor, 1]";
    return nullptr;
  }
};

}  // namespace kiln::dsl
