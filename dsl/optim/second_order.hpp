// What full-batch (second-order) optimizers share: the line-search choice, the trait that makes
// a plan train full batch, and the checks of how such an optimizer combines with the rest of
// the plan. A full-batch optimizer minimizes one deterministic function — the mean loss over the
// training set plus the plan's penalties — so it can only take regularizers that are part of
// that function.
#pragma once

#include <string_view>
#include <type_traits>
#include <utility>

#include "kiln/dsl/core.hpp"
#include "kiln/dsl/lr/schedules.hpp"
#include "kiln/dsl/regularize/compose.hpp"

namespace kiln::dsl {

enum class line_search {
  none,          // a fixed step t (PyTorch's line_search_fn=None)
  strong_wolfe,  // PyTorch's line_search_fn="strong_wolfe"
};

// An optimizer whose step takes the whole training set (choosing one in the plan makes the
// generated trainer and `fit` train full batch).
template <class O>
concept full_batch_optimizer = requires {
  requires O::full_batch;
};

template <class O>
inline constexpr bool is_full_batch = full_batch_optimizer<O>;

// The problem with (optimizer, regularizers, learning-rate schedule, the ensemble's EMA decay),
// or nullptr. Only the penalties with a norm (l2, l1: dsl::norm_penalty) enter the minimized
// function; a learning-rate schedule needs a learning rate (newton_cg has none); the moving
// average of the weights is kept by the first-order update loop, which full-batch plans do not
// run.
template <class O, class Regs, class Lr>
constexpr const char* check_full_batch(const O&, const Regs&, const Lr&, double ema,
                                       std::size_t augmentations) {
  if constexpr (!full_batch_optimizer<O>) {
    return nullptr;
  } else {
    constexpr bool penalties_only = []<regularizer... R>(const dsl::regs<R...>*) {
      return (norm_penalty<R> && ... && true);
    }
    (static_cast<const Regs*>(nullptr));
    if (!penalties_only)
      return "full-batch plans (lbfgs, newton_cg) take only the l2 and l1 regularizers";
    if constexpr (!requires(O o) { o.lr; })
      if (!std::is_same_v<Lr, constant_lr>)
        return "newton_cg has no learning rate: leave .lr as constant_lr{}";
    if (ema != 0) return "full-batch plans (lbfgs, newton_cg) keep no moving average: no .ema";
    if (augmentations != 0)
      return "full-batch plans (lbfgs, newton_cg) see the data as it is: no .augment";
    return nullptr;
  }
}

}  // namespace kiln::dsl
