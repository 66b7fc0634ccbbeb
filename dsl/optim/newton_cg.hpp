// newton_cg: Hessian-free (truncated) Newton for full-batch training. No learning rate: each
// iteration solves (H + damping·I)·p = −g approximately by conjugate gradient, where H·v is a
// finite difference of gradients,
//   H·v ≈ (∇f(x + h·v) − ∇f(x)) / h,   h = √ε·(1 + ‖x‖₂) / ‖v‖₂   (ε: the float epsilon),
// one evaluation of the gradient per CG iteration. CG stops after .max_cg_iters products, when
// ‖r‖ ≤ min(.cg_tolerance, √‖g‖)·‖g‖ (the forcing term of Nocedal & Wright's Newton-CG), or at
// the first direction of non-positive curvature (then it keeps the step built so far, or −g if
// there is none yet). A strong-Wolfe line search from t = 1 (as lbfgs's) guards every step: the
// loss never increases, on non-convex problems too. One step (one epoch of `fit`) runs up to
// .max_iter iterations and stops early on the same tolerances as lbfgs.
#pragma once

#include <array>
#include <string_view>

#include "kiln/dsl/optim/fields.hpp"
#include "kiln/dsl/optim/second_order.hpp"

namespace kiln::dsl {

struct newton_cg {
  static constexpr std::string_view kind = "newton_cg";
  static constexpr bool full_batch = true;

  int max_iter = 10;          // Newton iterations per step
  int max_cg_iters = 10;      // Hessian-vector products per iteration
  double cg_tolerance = 0.5;  // upper bound of the forcing term, in (0, 1)
  double damping = 0;         // λ ≥ 0 added to the Hessian's diagonal
  double tolerance_grad = 1e-7;
  double tolerance_change = 1e-9;

  constexpr int states() const { return 0; }

  constexpr const char* check() const {
    if (max_iter < 1) return "newton_cg: .max_iter must be at least 1";
    if (max_cg_iters < 1) return "newton_cg: .max_cg_iters must be at least 1";
    if (!(cg_tolerance > 0 && cg_tolerance < 1))
      return "newton_cg: .cg_tolerance must be in (0, 1)";
    if (!(damping >= 0)) return "newton_cg: .damping must be >= 0";
    if (!(tolerance_grad >= 0)) return "newton_cg: .tolerance_grad must be >= 0";
    if (!(tolerance_change >= 0)) return "newton_cg: .tolerance_change must be >= 0";
    return nullptr;
  }

  friend constexpr bool operator==(const newton_cg&, const newton_cg&) = default;

  static constexpr auto fields() {
    return std::array<field<newton_cg>, 6>{
        {{"max_iter", nullptr, nullptr, &newton_cg::max_iter},
         {"max_cg_iters", nullptr, nullptr, &newton_cg::max_cg_iters},
         {"cg_tolerance", &newton_cg::cg_tolerance},
         {"damping", &newton_cg::damping},
         {"tolerance_grad", &newton_cg::tolerance_grad},
         {"tolerance_change", &newton_cg::tolerance_change}}};
  }
};

}  // namespace kiln::dsl
