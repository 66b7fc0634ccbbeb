// cosine_restarts: SGDR (Loshchilov & Hutter), PyTorch's CosineAnnealingWarmRestarts(T_0 =
// period, T_mult = mult, eta_min = min_factor·lr) stepped every batch with the fractional epoch
// (scheduler.step(epoch + i / iters)): within a cycle of T_i epochs, at T_cur epochs into it,
//   lr · (min + (1 − min)·(1 + cos(π·T_cur / T_i)) / 2),
// and each cycle is `mult` times longer than the one before. A single cycle as long as the run
// is plain cosine annealing.
#pragma once

#include <cmath>

#include "kiln/dsl/lr/schedules.hpp"

namespace kiln::dsl {

struct cosine_restarts {
  static constexpr std::string_view kind = "cosine_restarts";
  int period = 10;        // T_0, epochs of the first cycle
  int mult = 1;           // T_mult
  double min_factor = 0;  // eta_min / lr

  double factor(lr_clock c) const {
    const double e = c.epochs();
    double t = e, length = period;
    if (mult == 1) {
      t = std::fmod(e, double(period));
    } else {
      // Cycles before: n with period·(mult^n − 1)/(mult − 1) <= e.
      const double n = std::floor(std::log(e / period * (mult - 1) + 1) / std::log(double(mult)));
      const double power = std::pow(double(mult), n);
      t = e - period * (power - 1) / (mult - 1);
      length = period * power;
    }
    return min_factor + (1 - min_factor) * (1 + std::cos(M_PI * t / length)) / 2;
  }
  constexpr const char* check() const {
    if (period <= 0) return "cosine_restarts: .period must be positive (epochs)";
    if (mult < 1) return "cosine_restarts: .mult must be >= 1";
    if (!(min_factor >= 0 && min_factor <= 1))
      return "cosine_restarts: .min_factor must be in [0, 1]";
    return nullptr;
  }
};

}  // namespace kiln::dsl
