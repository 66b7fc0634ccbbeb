// batch_norm over x [n][channels][plane] (plane = h·w for images, 1 for flat inputs). The batch
// mean and 1/√(var + eps) stay in the layer's scratch for the backward pass, which is the usual
// closed form: dx = γ·invstd·(dy − mean(dy) − x̂·mean(dy·x̂)), computed as one affine pass
// dx = dy·A + x·B + K per channel.
// Data-parallel training synchronizes the statistics (as PyTorch's SyncBatchNorm does): the
// mean and variance are the whole global batch's, combined from every rank's, and the backward
// pass uses the sums of dy and dy·x̂ over the whole batch. Two exchanges of C values forward and
// one of 2C backward; in return the result is the single-process one, and every rank's running
// statistics stay the same.
#pragma once

#include <algorithm>
#include <cmath>

#include "kiln/codegen/kernels/norm.hpp"
#include "kiln/codegen/layers/onnx.hpp"
#include "kiln/codegen/layers/op.hpp"
#include "kiln/dsl/layers/batch_norm.hpp"

namespace kiln::codegen {

template <dsl::batch_norm L, dsl::shape In>
struct op<L, In> {
  static constexpr dsl::shape out = In;
  static constexpr int aux = 0;
  static constexpr bool view = false;
  static constexpr int C = In.channels();
  static constexpr std::size_t P = std::size_t(In.size() / C);
  // mean, invstd, three coefficients, and 2C for the exchanges of data-parallel training
  static constexpr std::size_t work = 7 * std::size_t(C);
  static constexpr std::size_t beta = param_offsets(L, In)[1];
  static constexpr auto bufs = buffer_offsets(L, In);  // running mean, var, batches tracked

  static void forward(const op_args& c) {
    float *mean = c.work, *invstd = mean + C, *a = invstd + C, *b = a + C;
    const float *gamma = c.w, *shift = c.w + beta;
    float *running_mean = c.buf + bufs[0], *running_var = c.buf + bufs[1];
    if (c.train) {
      kernels::channel_moments(c.x, std::size_t(c.n), C, P, mean, invstd);  // invstd ← var
      if (c.synced()) combine(c, mean, invstd);
      const double m = double(c.global()) * P, mom = L.momentum;
      if (c.commit) {
        for (int k = 0; k < C; ++k) {
          running_mean[k] = float((1 - mom) * running_mean[k] + mom * mean[k]);
          // PyTorch: the unbiased variance; undefined for one value, which then leaves it.
          if (m > 1)
            running_var[k] = float((1 - mom) * running_var[k] + mom * invstd[k] * m / (m - 1));
        }
        c.buf[bufs[2]] += 1;
      }
      for (int k = 0; k < C; ++k) {
        invstd[k] = float(1 / std::sqrt(double(invstd[k]) + L.eps));
        a[k] = gamma[k] * invstd[k];
        b[k] = shift[k] - mean[k] * a[k];
      }
    } else {
      for (int k = 0; k < C; ++k) {
        a[k] = float(gamma[k] / std::sqrt(double(running_var[k]) + L.eps));
        b[k] = shift[k] - running_mean[k] * a[k];
      }
    }
    kernels::channel_affine(c.x, a, b, std::size_t(c.n), C, P, c.y);
  }

  // Evaluation: the running statistics normalize.
  static std::string to_onnx(const onnx_io& c) {
    return c.node(
        "BatchNormalization",
        {c.x, param<L, In>(c, 0), param<L, In>(c, 1), buffer<L, In>(c, 0), buffer<L, In>(c, 1)},
        {attr::real("epsilon", float(L.eps))});
  }

  // After a training-mode forward (batch statistics).
  static void backward(const op_args& c) {
    const float *mean = c.work, *invstd = mean + C, *gamma = c.w;
    float *a = c.work + 2 * C, *b = a + C, *k = b + C;
    float *dgamma = c.gw, *dbeta = c.gw + beta;
    kernels::channel_dot(c.x, c.dy, mean, std::size_t(c.n), C, P, dbeta, dgamma);
    // Σ dy and Σ dy·(x − mean) over the batch. Data-parallel: over the whole batch for dx; the
    // parameter gradients stay this rank's part (the trainer sums all gradients over the ranks).
    const float *sum_dy = dbeta, *sum_dy_x = dgamma;
    if (c.synced()) {
      float* all = c.work + 5 * C;
      std::copy(dbeta, dbeta + C, all);
      std::copy(dgamma, dgamma + C, all + C);
      c.comm->sum({all, 2 * std::size_t(C)}, "batch_norm's gradient sums");
      sum_dy = all, sum_dy_x = all + C;
    }
    const float m = float(c.global()) * float(P);
    for (int i = 0; i < C; ++i) {
      const float dy_xhat = sum_dy_x[i] * invstd[i];  // Σ dy·x̂
      dgamma[i] *= invstd[i];
      a[i] = gamma[i] * invstd[i];
      b[i] = -a[i] * invstd[i] * dy_xhat / m;
      k[i] = -a[i] * sum_dy[i] / m - mean[i] * b[i];
    }
    if (c.dx) kernels::channel_affine2(c.dy, c.x, a, b, k, std::size_t(c.n), C, P, c.dx);
  }

 private:
  // The whole batch's mean and (biased) variance from every rank's (Chan et al.'s combination):
  // Σ m·mean gives the mean, Σ m·(var + (mean_rank − mean)²) the variance, m being a rank's
  // values per channel (0 for a rank without samples in this batch).
  static void combine(const op_args& c, float* mean, float* var) {
    float* t = c.work + 5 * C;
    const double m = double(c.n) * P, all = double(c.global()) * P;
    for (int k = 0; k < C; ++k) t[k] = c.n > 0 ? float(m * mean[k]) : 0.0f;
    c.comm->sum({t, std::size_t(C)}, "batch_norm's means");
    for (int k = 0; k < C; ++k) {
      const double mu = t[k] / all, e = double(mean[k]) - mu;
      t[C + k] = c.n > 0 ? float(m * (var[k] + e * e)) : 0.0f;
      mean[k] = float(mu);
    }
    c.comm->sum({t + C, std::size_t(C)}, "batch_norm's variances");
    for (int k = 0; k < C; ++k) var[k] = float(t[C + k] / all);
  }
};

}  // namespace kiln::codegen
