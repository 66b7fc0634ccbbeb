// batch_norm over x [n][channels][plane] (plane = h·w for images, 1 for flat inputs). The batch
// mean and 1/√(var + eps) stay in the layer's scratch for the backward pass, which is the usual
// closed form: dx = γ·invstd·(dy − mean(dy) − x̂·mean(dy·x̂)), computed as one affine pass
// dx = dy·A + x·B + K per channel.
#pragma once

#include <cmath>

#include "kiln/codegen/kernels/norm.hpp"
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
  static constexpr std::size_t work = 5 * std::size_t(C);  // mean, invstd, three coefficients
  static constexpr std::size_t beta = param_offsets(L, In)[1];
  static constexpr auto bufs = buffer_offsets(L, In);  // running mean, var, batches tracked

  static void forward(const io& c) {
    float *mean = c.work, *invstd = mean + C, *a = invstd + C, *b = a + C;
    const float *gamma = c.w, *shift = c.w + beta;
    float *running_mean = c.buf + bufs[0], *running_var = c.buf + bufs[1];
    if (c.train) {
      kernels::channel_moments(c.x, std::size_t(c.n), C, P, mean, invstd);  // invstd ← var
      const double m = double(c.n) * P, mom = L.momentum;
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

  // After a training-mode forward (batch statistics).
  static void backward(const io& c) {
    const float *mean = c.work, *invstd = mean + C, *gamma = c.w;
    float *a = c.work + 2 * C, *b = a + C, *k = b + C;
    float *dgamma = c.gw, *dbeta = c.gw + beta;
    kernels::channel_dot(c.x, c.dy, mean, std::size_t(c.n), C, P, dbeta, dgamma);
    const float m = float(c.n) * float(P);
    for (int i = 0; i < C; ++i) {
      dgamma[i] *= invstd[i];  // Σ dy·x̂
      a[i] = gamma[i] * invstd[i];
      b[i] = -a[i] * invstd[i] * dgamma[i] / m;
      k[i] = -a[i] * dbeta[i] / m - mean[i] * b[i];
    }
    if (c.dx) kernels::channel_affine2(c.dy, c.x, a, b, k, std::size_t(c.n), C, P, c.dx);
  }
};

}  // namespace kiln::codegen
