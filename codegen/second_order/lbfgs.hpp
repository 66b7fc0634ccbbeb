// L-BFGS as PyTorch 1.13's torch.optim.LBFGS computes it (see dsl/optim/lbfgs.hpp for the
// definition): the same directions, step lengths, line search, history handling and stopping
// rules, so that a trajectory can be compared with PyTorch's evaluation by evaluation. The vector
// work (curvature pairs, the two-loop recursion, dot products) runs in Highway kernels; the
// history is a ring of .history + 1 slots, so a rejected pair never overwrites a kept one.
#pragma once

#include <cstddef>
#include <vector>

#include "kiln/codegen/second_order/line_search.hpp"
#include "kiln/codegen/second_order/objective.hpp"
#include "kiln/codegen/second_order/vectors.hpp"
#include "kiln/dsl/optim/lbfgs.hpp"

namespace kiln::second_order {

template <class T>
class lbfgs_solver {
 public:
  // Checks the options (config_error naming the field) and allocates everything for problems of
  // n elements.
  lbfgs_solver(const dsl::lbfgs& options, std::size_t n);

  // PyTorch's step(closure): evaluates f at the objective's point, then up to max_iter
  // iterations, moving the point in place. State (history, last direction and step) carries
  // over to the next step, as in PyTorch.
  step_report step(objective<T>& f);

  // Forgets the history: the next step starts like the first.
  void reset();
  // The learning rate of the next steps (a schedule's value).
  void set_lr(double lr) { lr_ = lr; }
  // Called after every iteration.
  void observe(observer o) { observer_ = std::move(o); }

  const dsl::lbfgs& options() const { return o_; }
  std::size_t size() const { return n_; }
  // Curvature pairs held (at most .history).
  std::size_t pairs() const { return count_; }
  long iterations() const { return n_iter_; }
  long evaluations() const { return func_evals_; }

 private:
  // Builds this iteration's direction d (PyTorch's "compute gradient descent direction").
  void direction();
  // Stores the pair (s, y) from the last step if yᵀs > 1e-10, dropping the oldest when full.
  void update_history();

  dsl::lbfgs o_;
  std::size_t n_;
  double lr_;
  observer observer_;

  vectors<T> work_;  // g, the previous g, d, then .history + 1 slots of s and of y
  T *g_, *prev_g_, *d_;
  std::vector<std::size_t> order_;  // slots, the count_ live ones first (oldest first)
  std::vector<double> rho_;         // 1 / yᵀs per slot
  std::size_t count_ = 0;
  // Arguments of the two-loop recursion (oldest first), rebuilt in place each iteration.
  std::vector<const T*> s_, y_;
  std::vector<double> rho_ordered_, alpha_;
  strong_wolfe<T> search_;

  // PyTorch's state: n_iter, func_evals, t, H_diag, prev_loss.
  long n_iter_ = 0, func_evals_ = 0;
  double t_ = 0, h_diag_ = 1, prev_loss_ = 0;
};

}  // namespace kiln::second_order
