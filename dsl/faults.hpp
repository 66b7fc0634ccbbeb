// What a run does when a step meets a non-finite loss or gradient (NaN or infinity): the plan's
// `.nonfinite` entry.
//   stop_run{}    (the default) the step throws kiln::numeric_error naming the step and the
//                 first bad tensor; nothing is checkpointed after it, so the last checkpoint
//                 holds the last good state. Costs nothing measurable: the check is fused into
//                 the update loop, which reads every gradient anyway.
//   skip_step{}   the step changes nothing (weights, optimizer state, running statistics) and
//                 the learning rate is multiplied by .lr_factor from then on; .max_in_a_row
//                 skipped steps in a row stop the run as stop_run would. Updates wait for the
//                 whole backward pass (one read of the gradients checks them all first), as
//                 with clipping by global norm.
#pragma once

#include <string_view>

namespace kiln::dsl {

struct stop_run {
  static constexpr std::string_view kind = "stop_run";
  static constexpr bool skips = false;
  constexpr const char* check() const { return nullptr; }
};

struct skip_step {
  static constexpr std::string_view kind = "skip_step";
  static constexpr bool skips = true;
  double lr_factor = 0.5;
  int max_in_a_row = 10;

  constexpr const char* check() const {
    if (!(lr_factor > 0 && lr_factor <= 1)) return "skip_step: .lr_factor must be in (0, 1]";
    if (max_in_a_row < 1) return "skip_step: .max_in_a_row must be at least 1";
    return nullptr;
  }
};

template <class F>
concept nonfinite_policy = requires(const F& f) {
  { F::kind } -> std::convertible_to<std::string_view>;
  { F::skips } -> std::convertible_to<bool>;
  { f.check() } -> std::same_as<const char*>;
};

}  // namespace kiln::dsl
