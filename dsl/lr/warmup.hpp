// linear_warmup: the factor grows linearly from `start` to 1 over the first `steps` steps (or
// `epochs` epochs), then stays 1, and multiplies the schedule in `.then` — PyTorch's
// LinearLR(start_factor = start, total_iters = steps) stepped every batch, chained with the other
// scheduler (ChainedScheduler):
//   .lr = linear_warmup{.epochs = 1, .then = cosine_restarts{.period = 10}}
#pragma once

#include "kiln/dsl/lr/schedules.hpp"

namespace kiln::dsl {

template <lr_schedule Then = constant_lr>
struct linear_warmup {
  static constexpr std::string_view kind = "linear_warmup";
  long steps = 0;          // warmup length in steps, or
  int epochs = 0;          // in epochs (steps_per_epoch each)
  double start = 1.0 / 3;  // factor at step 0 (PyTorch's default start_factor)
  Then then{};

  // The state of the schedule that follows, if it keeps one.
  using state = schedule_state_t<Then>;

  constexpr double factor(lr_clock c, const state& s = {}) const {
    const long total = steps > 0 ? steps : long(epochs) * c.steps_per_epoch;
    const double done = total > 0 && c.step < total ? double(c.step) / double(total) : 1.0;
    return (start + (1 - start) * done) * lr_factor(then, c, s);
  }
  constexpr void observe(state& s, const epoch_report& r) const requires stateful_schedule<Then> {
    then.observe(s, r);
  }
  constexpr const char* check() const {
    if (steps < 0 || epochs < 0) return "linear_warmup: .steps and .epochs must be >= 0";
    if ((steps > 0) == (epochs > 0)) return "linear_warmup: give exactly one of .steps and .epochs";
    if (!(start > 0 && start <= 1)) return "linear_warmup: .start must be in (0, 1]";
    return then.check();
  }
};

}  // namespace kiln::dsl
