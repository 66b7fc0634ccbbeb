// Element-wise and row-wise kernels the layer ops call. They take runtime sizes, so they are
// compiled once (kernels.cpp, every Highway target) instead of in each trainer's TU, and
// dispatched at run time to the best target.
#pragma once

#include <cstddef>
#include <cstdint>

namespace kiln::kernels {

// y[r, c] += b[c] for r < rows, c < cols; rows are `ld` floats apart.
void add_bias(float* y, std::size_t ld, const float* b, std::size_t rows, std::size_t cols);
// out[c] = Σ_r a[r, c] for c < cols (rows `ld` floats apart): the bias gradient.
void column_sums(const float* a, std::size_t ld, std::size_t rows, std::size_t cols, float* out);

void relu(const float* x, float* y, std::size_t n);
// dx = dy where y > 0, else 0 (y is the forward output).
void relu_backward(const float* y, const float* dy, float* dx, std::size_t n);
void leaky_relu(const float* x, float* y, std::size_t n, float slope);
// dx = dy · (x > 0 ? 1 : slope) (x is the forward input).
void leaky_relu_backward(const float* x, const float* dy, float* dx, std::size_t n, float slope);
void tanh(const float* x, float* y, std::size_t n);
// dx = dy · (1 − y²).
void tanh_backward(const float* y, const float* dy, float* dx, std::size_t n);
void sigmoid(const float* x, float* y, std::size_t n);
// dx = dy · y · (1 − y).
void sigmoid_backward(const float* y, const float* dy, float* dx, std::size_t n);

struct loss_sum {
  double loss = 0;  // summed over the rows
  int correct = 0;  // rows whose arg-max equals the label (classification)
};

// Row-wise softmax of logits (rows × classes) into probs; returns Σ −log p[label] and the
// number of rows whose first arg-max is the label.
loss_sum softmax_cross_entropy(const float* logits, const std::int32_t* labels, std::size_t rows,
                               std::size_t classes, float* probs);
// d(mean loss)/d(logits) = (probs − onehot(label)) / scale.
void softmax_cross_entropy_backward(const float* probs, const std::int32_t* labels,
                                    std::size_t rows, std::size_t classes, float scale,
                                    float* dlogits);
// Σ (y − t)² over rows × cols.
double squared_error(const float* y, const float* t, std::size_t n);
// d(mean loss)/dy = 2 (y − t) / scale.
void squared_error_backward(const float* y, const float* t, std::size_t n, float scale, float* dy);

// Σ x² (gradient clipping by global norm).
double sum_squares(const float* x, std::size_t n);

}  // namespace kiln::kernels
