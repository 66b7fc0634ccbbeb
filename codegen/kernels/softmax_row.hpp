// One row of the softmax, in PyTorch's log-softmax order (m = max, Σ e^(x − m)), shared by the
// cross-entropy kernels so that the plain and the label-smoothed loss round alike.
#pragma once

#include <cmath>
#include <cstddef>

namespace kiln::kernels {

struct softmax_of_row {
  std::size_t best;  // the arg-max
  float max, sum;    // m and Σ e^(x − m): lse = m + log(sum)
};

// Writes the row's probabilities to p.
inline softmax_of_row softmax_row(const float* x, float* p, std::size_t classes) {
  std::size_t best = 0;
  for (std::size_t c = 1; c < classes; ++c) best = x[c] > x[best] ? c : best;
  const float m = x[best];
  float sum = 0;
  for (std::size_t c = 0; c < classes; ++c) sum += (p[c] = std::exp(x[c] - m));
  const float inv = 1.0f / sum;
  for (std::size_t c = 0; c < classes; ++c) p[c] *= inv;
  return {best, m, sum};
}

}  // namespace kiln::kernels
