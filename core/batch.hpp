// What one step of a model takes and gives back: a mini-batch (views of samples and their
// labels or targets) and its summed loss. Shared by the generated trainer's layer ops (codegen)
// and everything in the runtime that feeds a model.
#pragma once

#include <cstdint>

namespace kiln::rt {

// One mini-batch. x holds n samples back to back; labels (classify) or targets (regress).
struct batch {
  int n = 0;
  const float* x = nullptr;
  const std::int32_t* labels = nullptr;
  const float* targets = nullptr;
  // Data-parallel training: these n samples are samples [offset, offset + n) of a global batch
  // of `total` samples shared among the ranks (the loss is the mean over all of them). 0: n.
  int offset = 0, total = 0;
  int global() const noexcept { return total > 0 ? total : n; }
};

// Loss summed (not averaged) over the batch, so that epoch means are exact.
struct step_result {
  double loss_sum = 0;
  int correct = 0;  // classify: samples whose arg-max output equals the label
  // The loss or a gradient was not finite and the plan skips such steps (skip_step): nothing
  // changed, and loss_sum and correct are not to be counted.
  bool skipped = false;
};

}  // namespace kiln::rt
