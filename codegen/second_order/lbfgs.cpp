#include "kiln/codegen/second_order/lbfgs.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <numeric>

#include "kiln/codegen/kernels/vector.hpp"

namespace kiln::second_order {

template <class T>
lbfgs_solver<T>::lbfgs_solver(const dsl::lbfgs& options, std::size_t n)
    : o_((require_options(options.check()), options)),
      n_(n),
      lr_(options.lr),
      work_(3 + 2 * (std::size_t(options.history) + 1), n),
      g_(work_[0]),
      prev_g_(work_[1]),
      d_(work_[2]),
      order_(std::size_t(options.history) + 1),
      rho_(order_.size()),
      s_(order_.size()),
      y_(order_.size()),
      rho_ordered_(order_.size()),
      alpha_(order_.size()),
      search_(o_.line_search == dsl::line_search::strong_wolfe ? strong_wolfe<T>(n)
                                                               : strong_wolfe<T>()) {
  reset();
}

template <class T>
void lbfgs_solver<T>::reset() {
  std::iota(order_.begin(), order_.end(), std::size_t(0));
  count_ = 0;
  n_iter_ = func_evals_ = 0;
  t_ = 0, h_diag_ = 1, prev_loss_ = 0;
}

template <class T>
void lbfgs_solver<T>::update_history() {
  const std::size_t slot = order_[count_];  // free: never one of the live pairs
  T* s = work_[3 + 2 * slot];
  T* y = work_[4 + 2 * slot];
  const auto [ys, yy] = kernels::curvature_pair(g_, prev_g_, d_, T(t_), y, s, n_);
  if (!(ys > 1e-10)) return;
  const auto history = std::size_t(o_.history);
  if (count_ == history)  // drop the oldest: it moves to the free end, the new pair is last
    std::rotate(order_.begin(), order_.begin() + 1, order_.begin() + std::ptrdiff_t(count_) + 1);
  else
    ++count_;
  rho_[slot] = 1.0 / ys;
  h_diag_ = ys / yy;
}

template <class T>
void lbfgs_solver<T>::direction() {
  if (n_iter_ == 1) {
    kernels::scale(T(-1), g_, d_, n_);
    count_ = 0;
    h_diag_ = 1;
    return;
  }
  update_history();
  for (std::size_t i = 0; i < count_; ++i) {
    const std::size_t slot = order_[i];
    s_[i] = work_[3 + 2 * slot];
    y_[i] = work_[4 + 2 * slot];
    rho_ordered_[i] = rho_[slot];
  }
  kernels::two_loop_args<T> a;
  a.g = g_;
  a.s = s_.data();
  a.y = y_.data();
  a.rho = rho_ordered_.data();
  a.count = count_;
  a.h0 = h_diag_;
  a.alpha = alpha_.data();
  a.d = d_;
  a.n = n_;
  kernels::two_loop(a);
}

// PyTorch 1.13's LBFGS.step, statement by statement.
template <class T>
step_report lbfgs_solver<T>::step(objective<T>& f) {
  T* x = f.point().data();
  if (f.point().size() != n_)
    throw config_error("lbfgs", "the objective has " + std::to_string(f.point().size()) +
                                    " elements, the solver was built for " + std::to_string(n_));
  step_report r;
  double loss = f.evaluate(g_);
  r.start_loss = loss;
  int current_evals = 1;
  ++func_evals_;
  const auto finish = [&](stop why) {
    r.loss = loss;
    r.evaluations = current_evals;
    r.reason = why;
    return r;
  };
  if (kernels::abs_max(g_, n_) <= o_.tolerance_grad) return finish(stop::gradient_small);

  const int max_eval = o_.eval_limit();
  const bool wolfe = o_.line_search == dsl::line_search::strong_wolfe;
  while (r.iterations < o_.max_iter) {
    ++r.iterations;
    ++n_iter_;
    direction();
    std::memcpy(prev_g_, g_, n_ * sizeof(T));
    prev_loss_ = loss;

    // The first step ever is scaled by the gradient's size; afterwards the learning rate.
    t_ = n_iter_ == 1 ? std::min(1.0, 1.0 / kernels::abs_sum(g_, n_)) * lr_ : lr_;
    const double gtd = kernels::dot(g_, d_, n_);
    if (gtd > -o_.tolerance_change) return finish(stop::not_descent);

    int ls_evals = 0;
    bool optimal = false;
    double moved_to = std::numeric_limits<double>::quiet_NaN();
    if (wolfe) {
      const auto found = search_.search(f, t_, d_, loss, g_, gtd, o_.tolerance_change);
      loss = moved_to = found.loss;
      if (found.g != g_) std::memcpy(g_, found.g, n_ * sizeof(T));
      t_ = found.t;
      ls_evals = found.evaluations;
      kernels::axpy(T(t_), d_, x, n_);
      optimal = kernels::abs_max(g_, n_) <= o_.tolerance_grad;
    } else {
      kernels::axpy(T(t_), d_, x, n_);
      if (r.iterations != o_.max_iter) {  // PyTorch skips the evaluation after the last one
        loss = moved_to = f.evaluate(g_);
        optimal = kernels::abs_max(g_, n_) <= o_.tolerance_grad;
        ls_evals = 1;
      }
    }
    current_evals += ls_evals;
    func_evals_ += ls_evals;
    if (observer_) observer_({n_iter_, func_evals_, moved_to, t_});

    if (r.iterations == o_.max_iter) return finish(stop::iterations);
    if (current_evals >= max_eval) return finish(stop::evaluations);
    if (optimal) return finish(stop::gradient_small);
    if (kernels::abs_max(d_, n_) * std::abs(t_) <= o_.tolerance_change)
      return finish(stop::no_progress);
    if (std::abs(loss - prev_loss_) < o_.tolerance_change) return finish(stop::no_progress);
  }
  return finish(stop::iterations);
}

template class lbfgs_solver<float>;
template class lbfgs_solver<double>;

}  // namespace kiln::second_order
