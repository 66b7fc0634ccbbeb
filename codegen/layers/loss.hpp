// Losses: loss_forward returns the summed loss (and correct count) of a batch; loss_backward
// writes d(mean loss)/d(outputs), the mean over the global batch (op_args::global(): data-parallel
// ranks each hold a part of it). `aux` keeps what backward needs (the probabilities).
#pragma once

#include "kiln/codegen/kernels/kernels.hpp"
#include "kiln/codegen/kernels/label_smoothing.hpp"
#include "kiln/codegen/layers/op.hpp"
#include "kiln/dsl/layers/loss.hpp"
#include "kiln/core/batch.hpp"

namespace kiln::codegen {

template <dsl::softmax_cross_entropy L, dsl::shape In>
struct op<L, In> {
  static constexpr dsl::shape out = In;
  static constexpr int classes = In.size();
  static constexpr int aux = classes;  // probabilities
  static constexpr bool view = false;

  static constexpr double eps = L.label_smoothing;  // 0: the one-hot target, plain kernels

  static rt::step_result loss_forward(const op_args& c, const rt::batch& b) {
    kernels::loss_sum s;
    if constexpr (eps > 0)
      s = kernels::smoothed_cross_entropy(c.x, b.labels, c.n, classes, eps, c.aux);
    else
      s = kernels::softmax_cross_entropy(c.x, b.labels, c.n, classes, c.aux);
    return {s.loss, s.correct};
  }
  static void loss_backward(const op_args& c, const rt::batch& b) {
    if constexpr (eps > 0)
      kernels::smoothed_cross_entropy_backward(c.aux, b.labels, c.n, classes, eps,
                                               float(c.global()), c.dx);
    else
      kernels::softmax_cross_entropy_backward(c.aux, b.labels, c.n, classes, float(c.global()),
                                              c.dx);
  }
};

template <dsl::mse L, dsl::shape In>
struct op<L, In> {
  static constexpr dsl::shape out = In;
  static constexpr int aux = 0;
  static constexpr bool view = false;

  // Per sample: the mean over its outputs, so that epoch means equal PyTorch's MSELoss.
  static rt::step_result loss_forward(const op_args& c, const rt::batch& b) {
    const double sum = kernels::squared_error(c.x, b.targets, std::size_t(c.n) * In.size());
    return {sum / In.size(), 0};
  }
  static void loss_backward(const op_args& c, const rt::batch& b) {
    kernels::squared_error_backward(c.x, b.targets, std::size_t(c.n) * In.size(),
                                    float(c.global()) * In.size(), c.dx);
  }
};

}  // namespace kiln::codegen
