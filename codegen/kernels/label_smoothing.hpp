// Softmax cross-entropy against label-smoothed targets (dsl::softmax_cross_entropy's
// .label_smoothing ε): the target of a row is (1 − ε)·onehot(label) + ε/K over its K classes.
// Rows are a handful of classes: scalar code, compiled once (label_smoothing.cpp).
#pragma once

#include <cstddef>
#include <cstdint>

#include "kiln/codegen/kernels/kernels.hpp"

namespace kiln::kernels {

// Row-wise softmax of logits (rows × classes) into probs; returns
// Σ_rows (1 − ε)·(−log p[label]) + ε·mean_k(−log p[k]) — PyTorch's
// CrossEntropyLoss(label_smoothing = ε, reduction = 'sum') — and the number of rows whose
// first arg-max is the label.
loss_sum smoothed_cross_entropy(const float* logits, const std::int32_t* labels, std::size_t rows,
                                std::size_t classes, double smoothing, float* probs);
// d(mean loss)/d(logits) = (probs − (1 − ε)·onehot(label) − ε/K) / scale.
void smoothed_cross_entropy_backward(const float* probs, const std::int32_t* labels,
                                     std::size_t rows, std::size_t classes, double smoothing,
                                     float scale, float* dlogits);

}  // namespace kiln::kernels
