#include "kiln/codegen/trainer/errors.hpp"

#include <cmath>

#include "kiln/core/error.hpp"

namespace kiln::codegen {

void throw_nonfinite(const fault& f, long step, std::span<const rt::tensor> tensors,
                     const std::string& stopped) {
  const std::string name = f.what == fault::loss ? "loss" : tensors[f.tensor].name;
  switch (f.what) {
    case fault::loss:
      throw numeric_error(
          step, name,
          std::string("the loss is ") + (std::isnan(f.value) ? "NaN" : "infinite") + stopped);
    case fault::gradient:
      throw numeric_error(step, name,
                          "the gradient of '" + name +
                              "' is not finite (NaN or infinity; the first such tensor of the "
                              "backward pass)" +
                              stopped);
    case fault::weights:
      break;
  }
  throw numeric_error(step, name,
                      "the update made '" + name +
                          "' non-finite from a finite gradient (a learning rate too large, "
                          "optimizer state gone bad?)" +
                          stopped);
}

std::string skip_step_stopped(long skipped, long max_in_a_row) {
  return " (" + std::to_string(skipped) +
         " steps in a row); training stopped (plan: .nonfinite = skip_step{.max_in_a_row = " +
         std::to_string(max_in_a_row) + "})";
}

void require_positive_batch(int batch) {
  if (batch < 0) throw config_error("batch", "must be positive, got " + std::to_string(batch));
}

void require_fits(int n, int batch) {
  if (n < 1 || n > batch)
    throw config_error("batch", "a step takes 1 to " + std::to_string(batch) + " samples, got " +
                                    std::to_string(n));
}

void require_part_fits(const rt::batch& b, int batch) {
  if (b.n < 0 || b.n > batch || b.offset < 0 || b.offset + b.n > b.global())
    throw config_error("batch", "a data-parallel step takes 0 to " + std::to_string(batch) +
                                    " samples of its global batch, got " + std::to_string(b.n) +
                                    " at " + std::to_string(b.offset) + " of " +
                                    std::to_string(b.global()));
}

void require_threads(int threads) {
  if (threads < 1) throw config_error("threads", "must be at least 1");
}

void require_schedule_state(std::string_view schedule, std::size_t kept, std::size_t got) {
  if (got != kept)
    throw config_error("resume state", std::string(schedule) + " keeps " + std::to_string(kept) +
                                           " values, got " + std::to_string(got));
}

void require_layer_options(const layer_options& l, std::size_t first, std::size_t last,
                           bool full_batch) {
  if (last < first) throw config_error("layers", "'" + l.to + "' comes before '" + l.from + "'");
  if (!(l.lr_mult >= 0) || !std::isfinite(l.lr_mult))
    throw config_error("lr_mult", "must be finite and >= 0, got " + std::to_string(l.lr_mult));
  if (full_batch && l.lr_mult != 1)
    throw config_error("lr_mult", "full-batch plans (lbfgs, newton_cg) have no per-layer rates");
}

}  // namespace kiln::codegen
