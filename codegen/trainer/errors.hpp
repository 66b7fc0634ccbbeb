// The errors a generated trainer throws, their messages assembled out of line (errors.cpp): the
// string work is compiled once, not in every trainer's translation unit.
#pragma once

#include <cstddef>
#include <span>
#include <string>

#include "kiln/codegen/trainer/options.hpp"
#include "kiln/core/batch.hpp"
#include "kiln/runtime/model.hpp"  // rt::tensor

namespace kiln::codegen {

// Where a step met a NaN or an infinity.
struct fault {
  enum { loss, gradient, weights } what;
  std::size_t tensor = 0;  // gradient, weights: which one (an index into the layout's tensors)
  double value = 0;        // loss: its value
};

// kiln::numeric_error for fault `f` at step `step`, naming the tensor (by its name in
// `tensors`); `stopped` ends the message (how the plan's .nonfinite stopped the run).
[[noreturn]] void throw_nonfinite(const fault& f, long step, std::span<const rt::tensor> tensors,
                                  const std::string& stopped);
// That ending for skip_step, after `skipped` steps in a row (its max_in_a_row).
std::string skip_step_stopped(long skipped, long max_in_a_row);

// The trainer's checks of its arguments (config_error naming the parameter).
void require_positive_batch(int batch);
void require_fits(int n, int batch);                    // a step takes 1 to batch samples
void require_part_fits(const rt::batch& b, int batch);  // a data-parallel step: 0 to batch
void require_threads(int threads);
void require_schedule_state(std::string_view schedule, std::size_t kept, std::size_t got);
void require_layer_options(const layer_options& l, std::size_t first, std::size_t last,
                           bool full_batch);

}  // namespace kiln::codegen
