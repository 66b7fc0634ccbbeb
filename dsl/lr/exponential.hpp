// exponential_decay: lr · gamma^epoch, PyTorch's ExponentialLR stepped once per epoch.
#pragma once

#include "kiln/dsl/lr/schedules.hpp"

namespace kiln::dsl {

struct exponential_decay {
  static constexpr std::string_view kind = "exponential_decay";
  double gamma = 0.9;

  constexpr double factor(lr_clock c) const {
    double f = 1.0;
    for (int k = c.epoch; k > 0; --k) f *= gamma;
    return f;
  }
  constexpr const char* check() const {
    return gamma > 0 && gamma <= 1 ? nullptr : "exponential_decay: .gamma must be in (0, 1]";
  }
};

}  // namespace kiln::dsl
