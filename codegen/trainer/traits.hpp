// What a generated trainer's parts know about (Model, Plan) at compile time: the model's layout,
// the optimizer and its state vectors, the regularizers, and the choices they imply.
#pragma once

#include <cstddef>
#include <type_traits>

#include "kiln/codegen/layout.hpp"
#include "kiln/dsl/plan.hpp"

namespace kiln::codegen {

template <auto Model, auto Plan>
struct trainer_traits {
  static constexpr auto model = Model;
  static constexpr auto plan = Plan;
  using lay = layout<Model>;
  static constexpr std::size_t L = lay::layers;
  static constexpr auto opt = Plan.optimizer;
  using opt_type = std::remove_cvref_t<decltype(opt)>;
  static constexpr int S = opt.states();                   // optimizer state vectors
  static constexpr bool averaged = Plan.ensemble.ema > 0;  // keeps an EMA of the weights
  static constexpr auto regs = dsl::as_regs(Plan.regularizer);
  // A NaN or infinity: skip the step (skip_step) rather than stop the run (stop_run).
  static constexpr bool skips = std::remove_cvref_t<decltype(Plan.nonfinite)>::skips;
  // Clipping by global norm needs every gradient before any update, and so does skipping a
  // step whose gradients are not all finite: then the trainer updates after the whole backward
  // pass instead of layer by layer (a compile-time choice).
  static constexpr bool per_layer = !regs.global && !skips;
  // The plan's optimizer steps over whole datasets (lbfgs, newton_cg).
  static constexpr bool full_batch = dsl::is_full_batch<opt_type>;
  // Evaluation averages the logits of each image and its mirror image (codegen/test_time.hpp).
  static constexpr bool flips = Plan.test_time.hflip;
  // .precision = kiln::bf16: the products read bf16 copies (engine/ops.hpp, layers/dense.hpp).
  static constexpr bool half = Plan.precision == dsl::numeric_type::bf16;
};

}  // namespace kiln::codegen
