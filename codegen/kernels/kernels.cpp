// Compiles kernels-inl.h for every Highway target and exports the dispatching entry points.
#include "kiln/codegen/kernels/kernels.hpp"

#include <cmath>

#include "kiln/codegen/kernels/softmax_row.hpp"

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kiln/codegen/kernels/kernels-inl.h"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

#include "kiln/codegen/kernels/kernels-inl.h"

#if HWY_ONCE
namespace kiln::kernels {

HWY_EXPORT(AddBias);
HWY_EXPORT(ColumnSums);
HWY_EXPORT(Relu);
HWY_EXPORT(ReluBackward);
HWY_EXPORT(LeakyRelu);
HWY_EXPORT(LeakyReluBackward);
HWY_EXPORT(Tanh);
HWY_EXPORT(TanhBackward);
HWY_EXPORT(Sigmoid);
HWY_EXPORT(SigmoidBackward);
HWY_EXPORT(SquaredErrorBackward);
HWY_EXPORT(SumSquares);

void add_bias(float* y, std::size_t ld, const float* b, std::size_t rows, std::size_t cols) {
  HWY_DYNAMIC_DISPATCH(AddBias)(y, ld, b, rows, cols);
}
void column_sums(const float* a, std::size_t ld, std::size_t rows, std::size_t cols, float* out) {
  HWY_DYNAMIC_DISPATCH(ColumnSums)(a, ld, rows, cols, out);
}
void relu(const float* x, float* y, std::size_t n) { HWY_DYNAMIC_DISPATCH(Relu)(x, y, n); }
void relu_backward(const float* y, const float* dy, float* dx, std::size_t n) {
  HWY_DYNAMIC_DISPATCH(ReluBackward)(y, dy, dx, n);
}
void leaky_relu(const float* x, float* y, std::size_t n, float slope) {
  HWY_DYNAMIC_DISPATCH(LeakyRelu)(x, y, n, slope);
}
void leaky_relu_backward(const float* x, const float* dy, float* dx, std::size_t n, float slope) {
  HWY_DYNAMIC_DISPATCH(LeakyReluBackward)(x, dy, dx, n, slope);
}
void tanh(const float* x, float* y, std::size_t n) { HWY_DYNAMIC_DISPATCH(Tanh)(x, y, n); }
void tanh_backward(const float* y, const float* dy, float* dx, std::size_t n) {
  HWY_DYNAMIC_DISPATCH(TanhBackward)(y, dy, dx, n);
}
void sigmoid(const float* x, float* y, std::size_t n) { HWY_DYNAMIC_DISPATCH(Sigmoid)(x, y, n); }
void sigmoid_backward(const float* y, const float* dy, float* dx, std::size_t n) {
  HWY_DYNAMIC_DISPATCH(SigmoidBackward)(y, dy, dx, n);
}
void squared_error_backward(const float* y, const float* t, std::size_t n, float scale, float* dy) {
  HWY_DYNAMIC_DISPATCH(SquaredErrorBackward)(y, t, n, scale, dy);
}

double sum_squares(const float* x, std::size_t n) { return HWY_DYNAMIC_DISPATCH(SumSquares)(x, n); }

// Rows are a handful of classes: scalar code, in PyTorch's log-softmax order
// (m = max, lse = m + log Σ e^(x − m), loss = lse − x[label]).
loss_sum softmax_cross_entropy(const float* logits, const std::int32_t* labels, std::size_t rows,
                               std::size_t classes, float* probs) {
  loss_sum out;
  for (std::size_t r = 0; r < rows; ++r) {
    const float* x = logits + r * classes;
    const auto [best, m, sum] = softmax_row(x, probs + r * classes, classes);
    const auto label = static_cast<std::size_t>(labels[r]);
    out.loss += double(m + std::log(sum) - x[label]);
    out.correct += best == label;
  }
  return out;
}

void softmax_cross_entropy_backward(const float* probs, const std::int32_t* labels,
                                    std::size_t rows, std::size_t classes, float scale,
                                    float* dlogits) {
  const float inv = 1.0f / scale;
  for (std::size_t r = 0; r < rows; ++r) {
    for (std::size_t c = 0; c < classes; ++c)
      dlogits[r * classes + c] = probs[r * classes + c] * inv;
    dlogits[r * classes + static_cast<std::size_t>(labels[r])] -= inv;
  }
}

double squared_error(const float* y, const float* t, std::size_t n) {
  double sum = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const double e = double(y[i]) - double(t[i]);
    sum += e * e;
  }
  return sum;
}

}  // namespace kiln::kernels
#endif  // HWY_ONCE
