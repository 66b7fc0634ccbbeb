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
// Returns the largest error relative to max(|numeric|, 0.1).
template <auto Model, auto Plan>
double max_gradient_error(const rt::dataset& data, float eps) {
  auto t = kiln::compile<Model, Plan>();
  const auto b = first_batch(data, 8);
  t.gradient(b);
  const std::vector<float> analytic(t.gradients().begin(), t.gradients().end());
  auto p = t.parameters();
  double worst = 0;
  for (std::size_t i = 0; i < p.size(); ++i) {
    const float keep = p[i];
    p[i] = keep + eps;
    const double up = t.loss(b, true).loss_sum;
    p[i] = keep - eps;
    const double down = t.loss(b, true).loss_sum;
    p[i] = keep;
    const double numeric = (up - down) / (2.0 * eps) / b.n;
    worst = std::max(worst, std::abs(numeric - analytic[i]) / std::max(std::abs(numeric), 0.1));
  }
  return worst;
}

}  // namespace kiln::test
