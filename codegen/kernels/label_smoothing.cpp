#include "kiln/codegen/kernels/label_smoothing.hpp"

#include <cmath>

#include "kiln/codegen/kernels/softmax_row.hpp"

namespace kiln::kernels {

// The softmax as softmax_cross_entropy computes it (m = max, lse = m + log Σ e^(x − m)); the
// smoothed term −mean_k log p_k = lse − mean_k x_k needs no logarithm per class.
loss_sum smoothed_cross_entropy(const float* logits, const std::int32_t* labels, std::size_t rows,
                                std::size_t classes, double smoothing, float* probs) {
  loss_sum out;
  for (std::size_t r = 0; r < rows; ++r) {
    const float* x = logits + r * classes;
    const auto [best, m, sum] = softmax_row(x, probs + r * classes, classes);
    double total = 0;
    for (std::size_t c = 0; c < classes; ++c) total += x[c];
    const auto label = static_cast<std::size_t>(labels[r]);
    const double lse = double(m) + double(std::log(sum));
    const double nll = lse - double(x[label]), uniform = lse - total / double(classes);
    out.loss += (1 - smoothing) * nll + smoothing * uniform;
    out.correct += best == label;
  }
  return out;
}

void smoothed_cross_entropy_backward(const float* probs, const std::int32_t* labels,
                                     std::size_t rows, std::size_t classes, double smoothing,
                                     float scale, float* dlogits) {
  const float inv = 1.0f / scale;
  const auto spread = float(smoothing / double(classes));  // ε/K of every class's target
  const auto on = float(1 - smoothing);                    // what the label's adds to it
  for (std::size_t r = 0; r < rows; ++r) {
    float* d = dlogits + r * classes;
    for (std::size_t c = 0; c < classes; ++c) d[c] = (probs[r * classes + c] - spread) * inv;
    d[static_cast<std::size_t>(labels[r])] -= on * inv;
  }
}

}  // namespace kiln::kernels
