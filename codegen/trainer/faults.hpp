// A generated trainer's answer to a NaN or an infinity (the plan's .nonfinite): where a step met
// one, and what that leads to — kiln::numeric_error naming the step and the first bad tensor
// (stop_run), or the step undone and the learning rate lowered (skip_step), until too many such
// steps in a row. Skipping allocates nothing; a message is built only to be thrown.
#pragma once

#include <cmath>
#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include "kiln/codegen/kernels/vector.hpp"
#include "kiln/codegen/trainer/arena.hpp"
#include "kiln/codegen/trainer/errors.hpp"
#include "kiln/core/batch.hpp"
#include "kiln/core/error.hpp"
#include "kiln/runtime/model.hpp"

namespace kiln::codegen {

template <class T>  // trainer_traits<Model, Plan>
class fault_policy {
  using lay = typename T::lay;
  static constexpr std::size_t L = T::L;
  static constexpr auto Plan = T::plan;

 public:
  void reset() {
    lr_factor_ = 1;
    skipped_in_a_row_ = 0;
  }
  // Room for each member's finiteness checks of each tensor (the fused update's).
  void set_threads(int threads) {
    checks_.assign(std::size_t(threads) * lay::tensor_count * 2, 0.0f);
  }
  // Where member `m`'s fused update of tensor `t` writes its two checks (gradient, weights).
  float* checks(int member, std::size_t t) {
    return &checks_[(std::size_t(member) * lay::tensor_count + t) * 2];
  }

  // skip_step: lr_factor to the power of the steps skipped (1 otherwise).
  double lr_factor() const { return lr_factor_; }
  long skipped_in_a_row() const { return skipped_in_a_row_; }
  // A step went through: the count of skipped steps in a row starts again.
  void passed() { skipped_in_a_row_ = 0; }
  // Checkpoints: the state above.
  void restore(double lr_factor, long skipped_in_a_row) {
    lr_factor_ = lr_factor;
    skipped_in_a_row_ = skipped_in_a_row;
  }

  // What fault `f` at step `step` leads to: with skip_step, the step is undone (the running
  // statistics restored from a.kept_b; nothing else was written yet) and the learning rate
  // lowered, until max_in_a_row such steps in a row; otherwise kiln::numeric_error naming the
  // tensor (by its name in `tensors`).
  rt::step_result nonfinite(const fault& f, long step, std::span<const rt::tensor> tensors,
                            arena<T>& a) {
    std::string stopped;  // empty: no allocation on the way to a skip
    if constexpr (!T::skips) {
      stopped = "; training stopped (plan: .nonfinite = stop_run{})";
    } else {
      std::copy(a.kept_b, a.kept_b + lay::buffer_floats, a.b);
      if (++skipped_in_a_row_ < Plan.nonfinite.max_in_a_row) {
        lr_factor_ *= Plan.nonfinite.lr_factor;
        return {0, 0, true};
      }
      stopped = skip_step_stopped(skipped_in_a_row_, Plan.nonfinite.max_in_a_row);
    }
    throw_nonfinite(f, step, tensors, stopped);
  }

  // The first tensor, in the order of the backward pass (last layer first), whose values in
  // `arena` (gradients or parameters) are not all finite; frozen layers are passed over.
  static std::size_t first_nonfinite(const float* arena, const bool* frozen) {
    for (std::size_t layer = L; layer-- > 1;)
      for (std::size_t t = 0; t < lay::tensor_count; ++t)
        if (lay::tensors[t].layer == layer && !frozen[layer] &&
            !std::isfinite(kernels::sum_squares(arena + lay::tensors[t].offset,
                                                std::size_t(lay::tensors[t].spec.dims.size()))))
          return t;
    return 0;
  }

  // After the update of layers [first, last] (stop_run): each of `members` members' checks of
  // its part of each tensor, the last layer first; the first bad one throws.
  template <class OnFault>
  void check_update(std::size_t first, std::size_t last, const bool* frozen, int members,
                    OnFault&& on_fault) {
    for (std::size_t layer = last + 1; layer-- > first;)
      for (std::size_t t = 0; t < lay::tensor_count; ++t) {
        if (lay::tensors[t].layer != layer || frozen[layer]) continue;
        for (int m = 0; m < members; ++m) {
          const float* c = checks(m, t);
          if (!std::isfinite(c[0])) on_fault(fault{fault::gradient, t});
          if (!std::isfinite(c[1])) on_fault(fault{fault::weights, t});
        }
      }
  }

 private:
  double lr_factor_ = 1;  // skip_step: lr_factor to the power of the steps skipped
  long skipped_in_a_row_ = 0;
  std::vector<float> checks_;  // stop_run: the update's finiteness checks, per member and tensor
};

}  // namespace kiln::codegen
