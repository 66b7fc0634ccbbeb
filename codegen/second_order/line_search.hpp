// The strong-Wolfe line search of PyTorch 1.13's LBFGS (_strong_wolfe, ported from minFunc via
// torch/optim's lswolfe.lua): bracketing with cubic extrapolation, then zoom by cubic
// interpolation, c1 = 1e-4, c2 = 0.9, at most 25 evaluations. Newton-CG uses it too: the point it
// returns is never worse than where it started, which is what keeps both methods from diverging.
#pragma once

#include <cstddef>

#include "kiln/codegen/second_order/objective.hpp"
#include "kiln/codegen/second_order/vectors.hpp"

namespace kiln::second_order {

// The minimizer of the cubic through (x1, f1) and (x2, f2) with slopes g1 and g2, clamped to
// [lo, hi]; the middle of [lo, hi] when the cubic has no minimizer. PyTorch's
// _cubic_interpolate, whose default bounds are [min(x1, x2), max(x1, x2)].
double cubic_interpolate(double x1, double f1, double g1, double x2, double f2, double g2,
                         double lo, double hi);

template <class T>
class strong_wolfe {
 public:
  static constexpr double c1 = 1e-4, c2 = 0.9;
  static constexpr int max_evaluations = 25;

  strong_wolfe() = default;
  explicit strong_wolfe(std::size_t n);

  struct result {
    double loss = 0;       // f at x + t·d
    const T* g = nullptr;  // ∇f there: g0 itself or one of the search's buffers
    double t = 0;
    int evaluations = 0;
  };

  // Searches along d from x (the objective's point) for t satisfying the strong Wolfe
  // conditions, starting from t. f0, g0 and gtd0 = g0ᵀd are known at x. Every trial point is
  // x + t·d, and x is restored bit for bit after each; the caller moves to the result.
  result search(objective<T>& f, double t, const T* d, double f0, const T* g0, double gtd0,
                double tolerance_change);

 private:
  double evaluate_at(objective<T>& f, double t, const T* d, T* g);
  // A gradient buffer that is neither a nor b.
  T* spare(const T* a, const T* b) const;

  std::size_t n_ = 0;
  vectors<T> memory_;  // the starting point, then three gradient buffers
};

}  // namespace kiln::second_order
