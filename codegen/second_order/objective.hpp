// What the full-batch solvers (L-BFGS, Newton-CG) minimize and what they report. A solver sees a
// problem only as an objective: a point it moves in place (as PyTorch's LBFGS moves the
// parameters) and a closure that evaluates the function and its gradient there. A generated
// trainer is one (the mean loss over a dataset plus the plan's penalties); so is Rosenbrock's
// function in a test.
#pragma once

#include <functional>
#include <span>
#include <string>
#include <string_view>

#include "kiln/core/error.hpp"

namespace kiln::second_order {

template <class T>
class objective {
 public:
  virtual ~objective() = default;
  // The point x; the solver reads and writes it in place. Its size is the problem's.
  virtual std::span<T> point() = 0;
  // f(x); writes ∇f(x) to `gradient` (point().size() values).
  virtual double evaluate(T* gradient) = 0;
};

// Why a step ended (PyTorch's conditions, in the order it checks them).
enum class stop {
  gradient_small,  // max |g| ≤ tolerance_grad (first-order optimality)
  not_descent,     // the directional derivative gᵀd > −tolerance_change
  iterations,      // max_iter iterations
  evaluations,     // max_eval evaluations (lbfgs)
  no_progress,     // max |t·d| ≤ tolerance_change, or |Δf| < tolerance_change
};

// One iteration, as an observer sees it right after the iteration moved the point.
struct iteration {
  long number = 0;       // 1-based over the solver's lifetime (PyTorch's state['n_iter'])
  long evaluations = 0;  // of f and ∇f, over the solver's lifetime (state['func_evals'])
  double loss = 0;       // f at the new point; NaN when not evaluated there (lbfgs with
                         // line_search::none does not evaluate after a step's last iteration)
  double step = 0;       // t: the point moved by t·d
};
using observer = std::function<void(const iteration&)>;

// What one step (PyTorch's optimizer.step(closure)) did.
struct step_report {
  double start_loss = 0;  // f where the step started (what PyTorch's step returns)
  double loss = 0;        // f at the last point evaluated
  int iterations = 0;
  int evaluations = 0;
  stop reason = stop::iterations;
};

// Solvers take their options at run time too (tools read them from a command line): a
// descriptor's check() message, "lbfgs: .history must be at least 1", becomes a config_error
// naming the optimizer.
inline void require_options(const char* problem) {
  if (problem == nullptr) return;
  const std::string_view text(problem);
  const auto colon = text.find(": ");
  throw config_error(std::string(text.substr(0, colon)), std::string(text.substr(colon + 2)));
}

}  // namespace kiln::second_order
