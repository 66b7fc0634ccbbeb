#include "kiln/codegen/second_order/newton_cg.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "kiln/codegen/kernels/vector.hpp"

namespace kiln::second_order {

template <class T>
newton_cg_solver<T>::newton_cg_solver(const dsl::newton_cg& options, std::size_t n)
    : o_((require_options(options.check()), options)),
      n_(n),
      work_(7, n),
      g_(work_[0]),
      p_(work_[1]),
      r_(work_[2]),
      v_(work_[3]),
      hv_(work_[4]),
      g_h_(work_[5]),
      x_saved_(work_[6]),
      search_(n) {}

template <class T>
double newton_cg_solver<T>::difference_step(double x_norm, double v_norm) {
  return std::sqrt(double(std::numeric_limits<T>::epsilon())) * (1 + x_norm) / v_norm;
}

template <class T>
double newton_cg_solver<T>::hessian_times(objective<T>& f, const T* v, double x_norm) {
  const double h = difference_step(x_norm, std::sqrt(kernels::dot(v, v, n_)));
  T* x = f.point().data();
  std::memcpy(x_saved_, x, n_ * sizeof(T));
  kernels::axpy(T(h), v, x, n_);
  f.evaluate(g_h_);
  std::memcpy(x, x_saved_, n_ * sizeof(T));
  return kernels::finite_difference(g_h_, g_, v, T(1 / h), T(o_.damping), hv_, n_);
}

// Nocedal & Wright's Algorithm 7.1 (line-search Newton-CG), inner loop: CG from p = 0 on
// (H + λI)·p = −g, stopped by the forcing term, the iteration limit or non-positive curvature.
template <class T>
int newton_cg_solver<T>::solve(objective<T>& f) {
  const double g_norm = std::sqrt(kernels::dot(g_, g_, n_));
  const double tolerance = std::min(o_.cg_tolerance, std::sqrt(g_norm)) * g_norm;
  const double x_norm = std::sqrt(kernels::dot(f.point().data(), f.point().data(), n_));
  std::fill(p_, p_ + n_, T(0));
  std::memcpy(r_, g_, n_ * sizeof(T));  // r = (H + λI)·p + g
  kernels::scale(T(-1), g_, v_, n_);
  double rr = g_norm * g_norm;
  negative_curvature_ = false;
  for (cg_iters_ = 0; cg_iters_ < o_.max_cg_iters;) {
    const double curvature = hessian_times(f, v_, x_norm);
    ++cg_iters_;
    if (!(curvature > 0)) {
      // The model is not convex along v: keep the step so far, or take −g if there is none.
      negative_curvature_ = true;
      if (cg_iters_ == 1) kernels::scale(T(-1), g_, p_, n_);
      break;
    }
    const double alpha = rr / curvature;
    kernels::axpy(T(alpha), v_, p_, n_);
    kernels::axpy(T(alpha), hv_, r_, n_);
    const double rr_next = kernels::dot(r_, r_, n_);
    if (std::sqrt(rr_next) <= tolerance) break;
    const double beta = rr_next / rr;
    rr = rr_next;
    kernels::scale(T(beta), v_, v_, n_);  // v = −r + β·v
    kernels::axpy(T(-1), r_, v_, n_);
  }
  return cg_iters_;
}

template <class T>
step_report newton_cg_solver<T>::step(objective<T>& f) {
  if (f.point().size() != n_)
    throw config_error("newton_cg", "the objective has " + std::to_string(f.point().size()) +
                                        " elements, the solver was built for " +
                                        std::to_string(n_));
  T* x = f.point().data();
  step_report r;
  double loss = f.evaluate(g_);
  r.start_loss = loss;
  r.evaluations = 1;
  const auto finish = [&](stop why) {
    func_evals_ += r.evaluations;
    r.loss = loss;
    r.reason = why;
    return r;
  };
  if (kernels::abs_max(g_, n_) <= o_.tolerance_grad) return finish(stop::gradient_small);

  while (r.iterations < o_.max_iter) {
    ++r.iterations;
    ++n_iter_;
    r.evaluations += solve(f);
    double gtd = kernels::dot(g_, p_, n_);
    if (!(gtd < 0)) {  // finite differences may spoil descent; −g never does
      kernels::scale(T(-1), g_, p_, n_);
      gtd = -kernels::dot(g_, g_, n_);
    }
    if (gtd > -o_.tolerance_change) return finish(stop::not_descent);

    const auto found = search_.search(f, 1.0, p_, loss, g_, gtd, o_.tolerance_change);
    r.evaluations += found.evaluations;
    const double previous = loss;
    loss = found.loss;
    if (found.g != g_) std::memcpy(g_, found.g, n_ * sizeof(T));
    kernels::axpy(T(found.t), p_, x, n_);
    if (observer_) observer_({n_iter_, func_evals_ + r.evaluations, loss, found.t});

    if (r.iterations == o_.max_iter) return finish(stop::iterations);
    if (kernels::abs_max(g_, n_) <= o_.tolerance_grad) return finish(stop::gradient_small);
    if (kernels::abs_max(p_, n_) * std::abs(found.t) <= o_.tolerance_change)
      return finish(stop::no_progress);
    if (std::abs(loss - previous) < o_.tolerance_change) return finish(stop::no_progress);
  }
  return finish(stop::iterations);
}

template class newton_cg_solver<float>;
template class newton_cg_solver<double>;

}  // namespace kiln::second_order
