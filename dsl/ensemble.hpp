// Ensembles in the plan: `.ensemble = ensemble{.members = 5}`.
//   members    K models trained from the seeds seed, seed+1, ..., seed+K-1 (initialization and
//              sample order), in parallel when there are cores for it; their softmax
//              probabilities are averaged (or, with .vote, their arg-maxes voted).
//   snapshots  a snapshot ensemble (Huang et al., 2017): with .lr = cyclic_cosine{...}, the
//              weights at the end of every cycle are kept and their probabilities averaged.
//   ema        Polyak averaging: an exponential moving average of the weights, updated in the
//              fused update loop (ema ← ema + (1 − decay)·(p − ema)), evaluated beside the
//              weights themselves. 0 keeps none; 0.999 is a usual decay.
#pragma once

#include <string_view>

namespace kiln::dsl {

struct ensemble {
  static constexpr std::string_view kind = "ensemble";
  int members = 1;
  bool vote = false;
  bool snapshots = false;
  double ema = 0;

  constexpr const char* check() const {
    if (members < 1 || members > 64) return "ensemble: .members must be in [1, 64]";
    if (!(ema >= 0 && ema < 1)) return "ensemble: .ema (a decay) must be in [0, 1)";
    return nullptr;
  }
};

}  // namespace kiln::dsl
