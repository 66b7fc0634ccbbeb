// The snapshot-ensemble schedule (Huang et al., 2017, after SGDR): training is a series of
// cycles of `cycle_epochs` epochs; within each, the factor falls from 1 to `floor` along half a
// cosine, step by step, then restarts at 1. The weights at the end of a cycle (a local minimum
// reached with a small learning rate) are one snapshot of the ensemble.
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

  double factor(lr_clock c) const {
    const long in_epoch = c.step - long(c.epoch) * c.steps_per_epoch;
    const double t = double((c.epoch % cycle_epochs) * c.steps_per_epoch + in_epoch);
    const double cycle = double(cycle_epochs) * double(c.steps_per_epoch);
    return floor + (1 - floor) * 0.5 * (1 + std::cos(std::numbers::pi * t / cycle));
  }
  constexpr const char* check() const {
    if (cycle_epochs < 1) return "cyclic_cosine: .cycle_epochs must be positive";
    if (!(floor >= 0 && floor < 1)) return "cyclic_cosine: .floor must be in [0, 1)";
    return nullptr;
  }
};

}  // namespace kiln::dsl
