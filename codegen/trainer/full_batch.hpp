// Full-batch training in the generated trainer: which solver a plan's optimizer selects, the
// penalties a full-batch plan adds to its loss, and the trainer seen as a solver's objective —
// the closure PyTorch's LBFGS.step re-evaluates, here over a whole dataset in chunks.
#pragma once

#include <algorithm>
#include <cstring>
#include <span>
#include <string_view>
#include <type_traits>
#include <utility>

#include "kiln/codegen/second_order/lbfgs.hpp"
#include "kiln/codegen/second_order/newton_cg.hpp"
#include "kiln/codegen/kernels/vector.hpp"
#include "kiln/core/batch.hpp"
#include "kiln/dsl/plan.hpp"

namespace kiln::codegen {

// What a mini-batch plan holds in place of a solver.
struct no_solver {
  void reset() {}
};

// The solver of a full-batch optimizer, for elements of type T (a trainer's are float).
template <class Optimizer, class T = float>
struct solver_for {
  using type = no_solver;
};
template <class T>
struct solver_for<dsl::lbfgs, T> {
  using type = second_order::lbfgs_solver<T>;
};
template <class T>
struct solver_for<dsl::newton_cg, T> {
  using type = second_order::newton_cg_solver<T>;
};

// The plan's l2 and l1 strengths (the penalties of norm 2 and 1, dsl::norm_penalty), summed: a
// full-batch plan minimizes mean loss + l2/2·‖w‖² + l1·‖w‖₁ over the tensors that decay
// (dsl::check_full_batch admits no other regularizer), which is what the fused first-order update's
// gradient terms differentiate.
template <auto Plan>
struct penalties {
  static constexpr auto regs = dsl::as_regs(Plan.regularizer);
  static constexpr double strength(int norm) {
    double sum = 0;
    dsl::for_each_index<regs.size>([&]<std::size_t I>(dsl::index_c<I>) {
      using R = std::remove_cvref_t<decltype(dsl::at<I>(regs))>;
      if constexpr (dsl::norm_penalty<R>)
        if (R::norm == norm) sum += dsl::at<I>(regs).lambda;
    });
    return sum;
  }
  static constexpr double l2 = strength(2), l1 = strength(1);
  static constexpr bool any = l2 != 0 || l1 != 0;
};

// The terms of the objective besides the data's mean loss, at parameters `p` with the data's
// gradient in `g`: the plan's penalties l2/2·‖w‖² + l1·‖w‖₁ over the tensors that decay, added
// to the value and to `g`; and a zero gradient for the frozen layers, so that no solver moves
// them. Returns the value's new total.
template <class T>  // trainer_traits<Model, Plan>
double add_objective_terms(double value, const float* p, float* g, const bool* frozen) {
  using lay = typename T::lay;
  using pen = penalties<T::plan>;
  if constexpr (pen::any)
    for (const auto& t : lay::tensors)
      if (T::plan.decay == dsl::decay_on::all || t.spec.decay)
        value += kernels::penalty(p + t.offset, g + t.offset, std::size_t(t.spec.dims.size()),
                                  float(pen::l2), float(pen::l1));
  for (const auto& t : lay::tensors)
    if (frozen[t.layer]) std::fill(g + t.offset, g + t.offset + t.spec.dims.size(), 0.0f);
  return value;
}

// A trainer as the function a solver minimizes: the point is its parameter arena (padding
// included: its gradient is zero there, so it never moves), and each evaluation is the trainer's
// objective over the step's data. Keeps the data's loss at the first evaluation — where the step
// started — for fit's epoch record.
template <class Trainer>
class full_batch_objective final : public second_order::objective<float> {
 public:
  full_batch_objective(Trainer& t, std::span<const rt::batch> data) : t_(t), data_(data) {}

  std::span<float> point() override { return t_.parameters(); }
  double evaluate(float* gradient) override {
    const auto v = t_.objective(data_);
    if (!evaluated_) start_ = v.data, evaluated_ = true;
    std::memcpy(gradient, t_.gradients().data(), t_.gradients().size_bytes());
    return v.value;
  }
  const rt::step_result& start() const { return start_; }

 private:
  Trainer& t_;
  std::span<const rt::batch> data_;
  rt::step_result start_{};
  bool evaluated_ = false;
};

}  // namespace kiln::codegen
