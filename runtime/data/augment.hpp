// Data augmentation as the runtime runs it: a list of steps (what a plan's `.augment` declares,
// translated by the generated trainer) applied to each sample of a batch in the loader thread.
#pragma once

#include <span>
#include <vector>

#include "kiln/core/rng.hpp"

namespace kiln::rt {

struct augment_step {
  enum class op { crop, flip, translate, jitter };
  op what = op::flip;
  int pixels = 0;         // crop: zero padding; translate: largest shift
  double p = 0.5;         // flip: probability
  double brightness = 0;  // jitter: factors drawn from [1 − b, 1 + b]
  double contrast = 0;    //         and [1 − c, 1 + c]
};

using augment_plan = std::vector<augment_step>;

// A per-batch augmentation for batch_loader (loader_options::augment) that applies `plan` to
// every sample, in order, drawing from the epoch's generator. Samples must be images {c, h, w}
// (or {h, w}); throws config_error otherwise, from the loader thread (next() rethrows it).
// An empty plan gives an empty function (no augmentation).
class augmenter {
 public:
  explicit augmenter(augment_plan plan) : plan_(std::move(plan)) {}
  // The batch x: n samples of `shape`, changed in place. x == nullptr: only the random numbers
  // of n samples are drawn (a data-parallel loader skipping other ranks' samples).
  void operator()(float* x, int n, std::span<const int> shape, rng& r);

 private:
  augment_plan plan_;
  std::vector<float> scratch_;  // one sample, allocated on the first batch
};

}  // namespace kiln::rt
