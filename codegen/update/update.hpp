// The fused parameter update, target-independent half: what one call of the generated loop
// receives. The loop itself is fused-inl.h; each optimizer or regularizer adds a stage beside
// it: its per-step scalars and scalar formulas in <name>.hpp, its vector body in <name>-inl.h.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "kiln/dsl/plan.hpp"

namespace kiln::codegen {

// Where the optimizer is when a step starts; the per-step scalars are computed from it once per
// tensor per step, never per element.
struct step_info {
  long t = 1;     // 1-based step count of the tensor (bias correction, SGD's first step)
  double lr = 0;  // learning rate after schedule and per-tensor multiplier
};

// Per optimizer (codegen/update/<name>.hpp): `scalars` (what changes per step) and
// `at(step_info, values)` computing them; `form(values)` and `forms` (the loop's structure, for
// tools that take values at run time); `apply` (the formulas one element at a time: the
// reference the vector stage is tested against, and the plain loop benchmarks compare with).
template <auto Optimizer>
struct optim;

// Per regularizer (codegen/update/<name>.hpp): its formula one element at a time (`grad`), or
// for a row constraint the factor of a row from its squared norm (`row_factor`).
template <auto Regularizer>
struct regular;

// Where the hyperparameters' values come from in a generated loop.
enum class values {
  fixed,    // the plan's: compile-time constants, folded into the loop
  runtime,  // passed with each call (tools reading them from a command line): the loop is
            // compiled for an optimizer's form (its structural switches) and takes the values
};

// The optimizer as a tensor that opts out of weight decay sees it.
template <class O>
constexpr O without_decay(O o) {
  o.weight_decay = 0;
  return o;
}

// What of a plan the fused loop depends on. The loop is keyed by this, not by the whole plan,
// so that trainers whose plans differ only elsewhere (schedule, loss, augmentation, batch size)
// share one loop: a suite's or a sample's trainers then compile it once.
template <class O, class R>
struct update_plan {
  O optimizer;
  R regularizer;
  double ema;  // Polyak averaging: the decay of the moving average of the weights; 0 keeps none
  // The plan stops on a non-finite gradient or weight (stop_run): the loop checks what it reads
  // and writes. (skip_step checks the gradients before any update instead.)
  bool check;
  // A bf16 plan (.precision = kiln::bf16): the loop also stores the new weights rounded to bf16,
  // the copy the products read, in the same pass.
  bool half;
};

template <auto Plan>
constexpr auto update_plan_of() {
  bool half = false;
  if constexpr (requires { Plan.precision; }) half = Plan.precision == dsl::numeric_type::bf16;
  return update_plan<std::remove_cvref_t<decltype(Plan.optimizer)>,
                     std::remove_cvref_t<decltype(Plan.regularizer)>>{
      Plan.optimizer, Plan.regularizer, Plan.ensemble.ema,
      !std::remove_cvref_t<decltype(Plan.nonfinite)>::skips, half};
}

// One instantiation of the fused loop: what of the plan it depends on (update_plan); whether
// this tensor takes decay (the optimizer's weight_decay, the penalties, the constraints); the
// element type; where the optimizer's values come from.
template <auto U, bool Decay, class T, values V>
struct loop_cfg {
  using type = T;
  static constexpr auto opt = Decay ? U.optimizer : without_decay(U.optimizer);
  using opt_type = std::remove_cvref_t<decltype(opt)>;
  static constexpr auto regs = dsl::as_regs(U.regularizer);
  static constexpr bool decay = Decay;
  static constexpr bool runtime = V == values::runtime;
  static constexpr int states = opt.states();
  // A row constraint (max_norm) applies: the loop walks the tensor row by row.
  static constexpr bool rows = Decay && regs.count(dsl::phase::constraint) > 0;
  static constexpr double ema = U.ema;
  static constexpr bool check = U.check;
  static constexpr bool half = U.half && std::is_same_v<T, float>;  // the bf16 copy is of floats
  using scalars = typename optim<opt>::scalars;
};

// The loop of a plan's tensors that take decay (Decay) or opt out of it.
template <auto Plan, bool Decay, class T = float, values V = values::fixed>
using update_cfg = loop_cfg<update_plan_of<Plan>(), Decay, T, V>;

struct no_values {};

// The arguments of one call: a tensor, its gradient, the optimizer's state vectors for it
// (same length, same layout), and this step's scalars.
template <class Cfg>
struct update_args {
  using T = typename Cfg::type;
  T* p = nullptr;
  const T* g = nullptr;
  T* state[std::max(Cfg::states, 1)]{};
  T* ema = nullptr;  // the moving average of p (same layout) when Cfg::ema > 0
  std::size_t n = 0;
  std::size_t row = 0;  // row length when a row constraint applies (n / dims[0]); 0: no rows
  typename Cfg::scalars k{};
  double clip = 1;  // this step's gradient scale from clip_norm, else 1
  // Cfg::check: receives [0] for the gradients, [1] for the new weights: 0 while all of them
  // are finite, NaN otherwise. Null: not wanted.
  float* check = nullptr;
  std::uint16_t* half = nullptr;  // Cfg::half: the bf16 copy of p (same layout)
  // values::runtime: the optimizer's hyperparameters (of the form the loop was compiled for).
  [[no_unique_address]] std::conditional_t<Cfg::runtime, typename Cfg::opt_type, no_values> h{};
};

// The optimizer's values for a call: the plan's constants, or the ones passed at run time.
template <class Cfg>
constexpr const typename Cfg::opt_type& values_of(const update_args<Cfg>& a) {
  if constexpr (Cfg::runtime)
    return a.h;
  else
    return Cfg::opt;
}

// Sets this step's scalars (once per tensor per step).
template <class Cfg>
void prepare(update_args<Cfg>& a, const step_info& s) {
  a.k = optim<Cfg::opt>::at(s, values_of(a));
}

}  // namespace kiln::codegen
