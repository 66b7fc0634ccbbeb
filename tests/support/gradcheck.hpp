// The finite-difference check shared by the gradient-check suites (tests/codegen, tests/layers).
#pragma once

#include <kiln/kiln.hpp>

#include <algorithm>
#include <cmath>
#include <vector>

#include "data.hpp"

namespace kiln::test {

// Finite-difference check of every parameter of a trainer built for (Model, Plan): d(mean
// loss)/d(parameter) from gradient() against central differences of loss() in training mode
// (random layers draw from the step's generator, so every loss() sees gradient()'s draws).
// Returns the largest error relative to max(|numeric|, 0.1). The step is the one the floats
// take, fl(p + eps) - fl(p - eps), not 2·eps.
template <auto Model, auto Plan>
double max_gradient_error(const rt::dataset& data, float eps) {
  auto t = kiln::compile<Model, Plan>();
  const auto b = first_batch(data, 8);
  t.gradient(b);
  const std::vector<float> analytic(t.gradients().begin(), t.gradients().end());
  auto p = t.parameters();
  double worst = 0;
  for (std::size_t i = 0; i < p.size(); ++i) {
    const float keep = p[i], hi = keep + eps, lo = keep - eps;
    p[i] = hi;
    const double up = t.loss(b, true).loss_sum;
    p[i] = lo;
    const double down = t.loss(b, true).loss_sum;
    p[i] = keep;
    const double numeric = (up - down) / (double(hi) - double(lo)) / b.n;
    worst = std::max(worst, std::abs(numeric - analytic[i]) / std::max(std::abs(numeric), 0.1));
  }
  return worst;
}

// What max_gradient_error may report for a correct backward pass with a step of eps each way:
//  - truncation of the central difference, eps²/6·|L'''|: along one parameter of these nets
//    (weights below 1, inputs in [-1, 1], three classes or two regression outputs) the mean
//    loss has |L'''| <= 2 (softmax cross-entropy's third derivative in a logit is below 0.1,
//    tanh's and sigmoid's below 2, each scaled by |x|³ <= 1);
//  - rounding of the two float32 loss evaluations. A sample's loss goes through at most K = 200
//    float multiply-adds of magnitudes up to M = 2 (the dot products of its layers: their
//    fan-ins add up to less) and about 8 roundings of magnitudes up to 4 (the log-sum-exp).
//    Independent roundings add up like a random walk (Higham, Accuracy and Stability of
//    Numerical Algorithms, 2.8): σ(loss) <= u·sqrt(K·M² + 8·4²)/√3 ≈ 17.6u (u = 2^-24). The
//    mean over the batch's 8 samples divides it by √8, the difference of two evaluations
//    multiplies it by √2; at 6σ (once in 10^9 parameters) that is E = 52.8u, and E/(2·eps) in
//    the difference quotient;
//  - the analytic gradient's own rounding, far below both.
// Relative to the floor 0.1 of max(|numeric|, 0.1): eps = 1e-2 allows 1.9e-3, 1e-3 allows 1.6e-2,
// 3e-4 allows 5.2e-2. Kinks (ReLU, max pooling) are the tests' concern: a smaller step there.
inline double gradcheck_tolerance(float eps) {
  constexpr double u = 0x1p-24;
  const double truncation = double(eps) * eps / 6 * 2, rounding = 52.8 * u / (2.0 * eps);
  return (truncation + rounding) / 0.1;
}

}  // namespace kiln::test
