// Hessian-free Newton (truncated Newton, Newton-CG): see dsl/optim/newton_cg.hpp for the
// definition. Each iteration runs conjugate gradient on (H + λI)·p = −g with Hessian-vector
// products from a forward difference of gradients (one evaluation each), then the strong-Wolfe
// line search of lbfgs from t = 1 — the Newton step when the quadratic model is right.
#pragma once

#include <cstddef>

#include "kiln/codegen/second_order/line_search.hpp"
#include "kiln/codegen/second_order/objective.hpp"
#include "kiln/codegen/second_order/vectors.hpp"
#include "kiln/dsl/optim/newton_cg.hpp"

namespace kiln::second_order {

template <class T>
class newton_cg_solver {
 public:
  newton_cg_solver(const dsl::newton_cg& options, std::size_t n);

  // Evaluates f at the objective's point, then up to max_iter Newton iterations, moving the
  // point in place. Never increases f.
  step_report step(objective<T>& f);

  // Nothing carries over between steps but the counters; reset() clears them.
  void reset() { n_iter_ = func_evals_ = 0; }
  void observe(observer o) { observer_ = std::move(o); }

  const dsl::newton_cg& options() const { return o_; }
  std::size_t size() const { return n_; }
  long iterations() const { return n_iter_; }
  long evaluations() const { return func_evals_; }
  // CG iterations of the last Newton iteration, and whether it met negative curvature.
  int cg_iterations() const { return cg_iters_; }
  bool negative_curvature() const { return negative_curvature_; }

  // The relative finite-difference step: H·v ≈ (∇f(x + h·v) − ∇f(x)) / h with
  // h = √ε·(1 + ‖x‖₂)/‖v‖₂, ε the machine epsilon of T.
  static double difference_step(double x_norm, double v_norm);

 private:
  // Truncated CG for (H + λI)·p = −g into p_; returns the gradient evaluations it made.
  int solve(objective<T>& f);
  // hv_ = (H + λI)·v; returns vᵀhv_.
  double hessian_times(objective<T>& f, const T* v, double x_norm);

  dsl::newton_cg o_;
  std::size_t n_;
  observer observer_;
  vectors<T> work_;  // g, p (the step), r (CG residual), v (CG direction), hv, ∇f(x + h·v), x
  T *g_, *p_, *r_, *v_, *hv_, *g_h_, *x_saved_;
  strong_wolfe<T> search_;
  long n_iter_ = 0, func_evals_ = 0;
  int cg_iters_ = 0;
  bool negative_curvature_ = false;
};

}  // namespace kiln::second_order
