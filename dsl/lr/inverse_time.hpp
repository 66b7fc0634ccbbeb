// inverse_time: 1/t decay, lr / (1 + k·t) with t the epoch (0-based), stepped once per epoch —
// PyTorch: LambdaLR(opt, lambda t: 1 / (1 + k * t)).
#pragma once

#include "kiln/dsl/lr/schedules.hpp"

namespace kiln::dsl {

struct inverse_time {
  static constexpr std::string_view kind = "inverse_time";
  double k = 0.5;

  constexpr double factor(lr_clock c) const { return 1.0 / (1.0 + k * c.epoch); }
  constexpr const char* check() const { return k >= 0 ? nullptr : "inverse_time: .k must be >= 0"; }
};

}  // namespace kiln::dsl
