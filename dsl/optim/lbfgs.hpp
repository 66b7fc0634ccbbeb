// lbfgs: limited-memory BFGS for full-batch training, defined as PyTorch 1.13's
// torch.optim.LBFGS so that runs can be compared step for step. One step (one epoch of `fit`)
// runs up to .max_iter iterations over the whole training set:
//   d = −H·g from the two-loop recursion over the last .history curvature pairs (s, y),
//       a pair kept only if yᵀs > 1e-10, the initial inverse Hessian H₀ = yᵀs / yᵀy · I
//   t = min(1, 1/‖g‖₁)·lr on the very first iteration, lr afterwards; then either the fixed
//       step x += t·d (line_search::none, PyTorch's default) or a strong-Wolfe line search
//       (c1 = 1e-4, c2 = 0.9, bracketing and cubic interpolation, at most 25 evaluations)
//   stop when max|g| ≤ tolerance_grad, max|t·d| ≤ tolerance_change,
//       |Δloss| < tolerance_change, or after .max_eval evaluations of the loss and gradient.
// PyTorch's `history_size` and `line_search_fn` are `.history` and `.line_search` here.
#pragma once

#include <array>
#include <string_view>

#include "kiln/dsl/optim/fields.hpp"
#include "kiln/dsl/optim/second_order.hpp"

namespace kiln::dsl {

struct lbfgs {
  static constexpr std::string_view kind = "lbfgs";
  static constexpr bool full_batch = true;

  double lr = 1;
  int max_iter = 20;  // iterations per step
  int max_eval = 0;   // loss-and-gradient evaluations per step; 0: max_iter·5/4 (PyTorch)
  double tolerance_grad = 1e-7;
  double tolerance_change = 1e-9;
  int history = 100;
  dsl::line_search line_search = dsl::line_search::none;

  // PyTorch's default for max_eval=None.
  constexpr int eval_limit() const { return max_eval > 0 ? max_eval : max_iter * 5 / 4; }

  // No element-wise state in the fused update: the history lives with the full-batch solver.
  constexpr int states() const { return 0; }

  constexpr const char* check() const {
    if (!(lr > 0)) return "lbfgs: .lr must be > 0";
    if (max_iter < 1) return "lbfgs: .max_iter must be at least 1";
    if (max_eval < 0) return "lbfgs: .max_eval must be >= 0 (0: max_iter * 5 / 4)";
    if (history < 1) return "lbfgs: .history must be at least 1";
    if (!(tolerance_grad >= 0)) return "lbfgs: .tolerance_grad must be >= 0";
    if (!(tolerance_change >= 0)) return "lbfgs: .tolerance_change must be >= 0";
    if (line_search != dsl::line_search::none && line_search != dsl::line_search::strong_wolfe)
      return "lbfgs: .line_search must be line_search::none or line_search::strong_wolfe";
    return nullptr;
  }

  friend constexpr bool operator==(const lbfgs&, const lbfgs&) = default;

  // PyTorch's keywords; `line_search` takes none or strong_wolfe (PyTorch: line_search_fn).
  static constexpr auto fields() {
    return std::array<field<lbfgs>, 7>{
        {{"lr", &lbfgs::lr},
         {"max_iter", nullptr, nullptr, &lbfgs::max_iter},
         {"max_eval", nullptr, nullptr, &lbfgs::max_eval},
         {"tolerance_grad", &lbfgs::tolerance_grad},
         {"tolerance_change", &lbfgs::tolerance_change},
         {"history_size", nullptr, nullptr, &lbfgs::history},
         {"line_search", nullptr, nullptr, nullptr, &lbfgs::line_search}}};
  }
};

}  // namespace kiln::dsl
