// The fused parameter update, target-independent half: what one call of the generated loop
// receives. The loop itself is fused-inl.h; each optimizer or regularizer adds a stage beside
// it (a scalars struct here, a vector body in <name>-inl.h).
#pragma once

#include <algorithm>
#include <cstddef>

#include "kiln/dsl/schedule.hpp"

namespace kiln::codegen {

// Where the optimizer is when a step starts; the per-step scalars are computed from it once per
// tensor per step, never per element.
struct step_info {
  long t = 1;     // 1-based step count (Adam's bias correction, SGD's first step)
  double lr = 0;  // learning rate after schedule and per-tensor multiplier
};

// Per-optimizer traits: `scalars` (what changes per step) and `at(step_info)`.
template <auto Optimizer>
struct optim;

// One instantiation of the fused loop: the plan, and whether this tensor takes the regularizers.
template <auto Plan, bool Decay>
struct update_cfg {
  static constexpr auto plan = Plan;
  static constexpr auto regs = dsl::as_regs(Plan.regularizer);
  static constexpr bool decay = Decay;
  static constexpr int states = Plan.optimizer.states();
  // Polyak averaging: the decay of the moving average of the weights; 0 keeps none.
  static constexpr double ema = Plan.ensemble.ema;
  using scalars = typename optim<Plan.optimizer>::scalars;
};

// The arguments of one call: a tensor, its gradient, the optimizer's state vectors for it
// (same length, same layout), and this step's scalars.
template <class Cfg>
struct update_args {
  float* p = nullptr;
  const float* g = nullptr;
  float* state[std::max(Cfg::states, 1)]{};
  float* ema = nullptr;  // the moving average of p (same layout) when Cfg::ema > 0
  std::size_t n = 0;
  typename Cfg::scalars k{};
};

}  // namespace kiln::codegen
