#pragma once

#include <algorithm>
#include <cmath>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "rounding.hpp"

namespace kiln::test {

// How far another summation order may move a float32 forward pass, as a random walk (Higham,
// Accuracy and Stability of Numerical Algorithms, 2.8): a double reference forward that carries,
// for every output of a layer, its value and the variance of its change, from its inputs' and the
// layer's own roundings. A check allows 6σ (once in 10⁹). Used where kiln's logits meet another
// kernel's (another Highway target, OpenBLAS kernel, PyTorch, ONNX Runtime). A sum of K products
// plus a bias whose partial sums stay below M = Σ|terms| rounds K + 1 times by up to u·M each
// (variance u²M²/3 each, uniform rounding) and its products once each, Σ u²t²/3 <= u²M²/3 (a
// multiply rounded alone, or a weight folded with batch norm's scale first; none with FMA):
// σ <= u·M·√((K + 2)/3), √2 more for two orders. The inputs' variances pass on through the
// weights.
using walk = std::pair<std::vector<double>, std::vector<double>>;

inline double rounding_variance(double magnitude, std::size_t terms) {
  return 2 * u * u * magnitude * magnitude * double(terms + 2) / 3;
}

inline walk dense_walk(std::span<const float> w, std::span<const float> b,
                       const std::vector<double>& x, const std::vector<double>& var, bool relu) {
  const std::size_t k = x.size(), n = b.size();
  std::vector<double> y(n), vy(n);
  for (std::size_t j = 0; j < n; ++j) {
    double v = b[j], magnitude = std::abs(b[j]), carried = 0;
    for (std::size_t i = 0; i < k; ++i) {
      v += w[j * k + i] * x[i];
      magnitude += std::abs(w[j * k + i] * x[i]);
      carried += double(w[j * k + i]) * w[j * k + i] * var[i];
    }
    y[j] = relu ? std::max(v, 0.0) : v;  // ReLU passes a change on, or less
    vy[j] = rounding_variance(magnitude, k) + carried;
  }
  return {y, vy};
}

// A 3×3 convolution with padding 1 (PyTorch's [filters][channels][3][3] weights) over
// [channels][side][side]: a sum of K = 9·channels terms per output, padding adding none.
inline walk conv_walk(std::span<const float> w, std::span<const float> b, const walk& in,
                      int channels, int side) {
  const int filters = int(b.size()), plane = side * side;
  std::vector<double> y(std::size_t(filters * plane)), vy(y.size());
  for (int f = 0; f < filters; ++f)
    for (int r = 0; r < side; ++r)
      for (int c = 0; c < side; ++c) {
        double v = b[std::size_t(f)], magnitude = std::abs(v), carried = 0;
        for (int ch = 0; ch < channels; ++ch)
          for (int dr = 0; dr < 3; ++dr)
            for (int dc = 0; dc < 3; ++dc) {
              const int rr = r + dr - 1, cc = c + dc - 1;
              if (rr < 0 || rr >= side || cc < 0 || cc >= side) continue;
              const double wt = w[std::size_t(((f * channels + ch) * 3 + dr) * 3 + dc)];
              const std::size_t at = std::size_t(ch * plane + rr * side + cc);
              v += wt * in.first[at], magnitude += std::abs(wt * in.first[at]);
              carried += wt * wt * in.second[at];
            }
        const std::size_t out = std::size_t(f * plane + r * side + c);
        y[out] = v, vy[out] = rounding_variance(magnitude, std::size_t(9 * channels)) + carried;
      }
  return {y, vy};
}

// Batch norm in evaluation: y = a·x + b per channel, a = γ/√(var + eps) and b = β − mean·a each
// rounded once, the product and the sum once each (or one fused rounding): at most 5 roundings
// of magnitude M = |a·x| + |mean·a| + |β|, as a sum of 3 terms.
template <class Model>
walk batch_norm_walk(Model& m, const std::string& name, const walk& in, int channels, double eps) {
  const auto g = m.tensor(name + ".weight"), beta = m.tensor(name + ".bias");
  const auto mean = m.tensor(name + ".running_mean"), var = m.tensor(name + ".running_var");
  const std::size_t per = in.first.size() / std::size_t(channels);
  walk out{in.first, in.second};
  for (std::size_t i = 0; i < in.first.size(); ++i) {
    const std::size_t k = i / per;
    const double a = g[k] / std::sqrt(double(var[k]) + eps), ax = a * in.first[i];
    const double magnitude = std::abs(ax) + std::abs(mean[k] * a) + std::abs(beta[k]);
    out.first[i] = ax + beta[k] - mean[k] * a;
    out.second[i] = a * a * in.second[i] + rounding_variance(magnitude, 3);
  }
  return out;
}

// A residual block at test time: x + p·body, p its survival probability (a multiply and an add,
// or one fused rounding).
inline walk scaled_add_walk(const walk& x, const walk& body, double p) {
  walk out{x.first, x.second};
  for (std::size_t i = 0; i < x.first.size(); ++i) {
    out.first[i] = x.first[i] + p * body.first[i];
    out.second[i] = x.second[i] + p * p * body.second[i] +
                    rounding_variance(std::abs(x.first[i]) + std::abs(p * body.first[i]), 1);
  }
  return out;
}

// Global average pooling of [channels][P]: a sum of P terms, then a division (or a product with
// 1/P) rounded once.
inline walk global_avg_pool_walk(const walk& in, int channels) {
  const std::size_t per = in.first.size() / std::size_t(channels);
  walk out{std::vector<double>(std::size_t(channels)), std::vector<double>(std::size_t(channels))};
  for (std::size_t k = 0; k < std::size_t(channels); ++k) {
    double sum = 0, magnitude = 0, var = 0;
    for (std::size_t i = k * per; i < (k + 1) * per; ++i)
      sum += in.first[i], magnitude += std::abs(in.first[i]), var += in.second[i];
    const double n = double(per);
    out.first[k] = sum / n;
    out.second[k] = var / (n * n) + rounding_variance(magnitude / n, per);
  }
  return out;
}

// 2×2 max pooling: the largest value, exact; its change is at most the largest of the window's.
inline walk max_pool_walk(const walk& in, int channels, int side) {
  const int half = side / 2;
  walk out{std::vector<double>(std::size_t(channels * half * half), -INFINITY),
           std::vector<double>(std::size_t(channels * half * half), 0.0)};
  for (int ch = 0; ch < channels; ++ch)
    for (int r = 0; r < side; ++r)
      for (int c = 0; c < side; ++c) {
        const std::size_t from = std::size_t((ch * side + r) * side + c);
        const std::size_t to = std::size_t((ch * half + r / 2) * half + c / 2);
        out.first[to] = std::max(out.first[to], in.first[from]);
        out.second[to] = std::max(out.second[to], in.second[from]);
      }
  return out;
}

// ReLU passes a change on, or less.
inline walk relu_walk(walk x) {
  for (double& v : x.first) v = std::max(v, 0.0);
  return x;
}

}  // namespace kiln::test
