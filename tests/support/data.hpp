// Small synthetic data for the generated-trainer suites: deterministic, a few hundred samples.
#pragma once

#include <cmath>
#include <cstdint>
#include <vector>

#include "rounding.hpp"
#include "kiln/runtime/data/dataset.hpp"
#include "kiln/runtime/model.hpp"
#include "kiln/core/rng.hpp"

namespace kiln::test {

// `n` samples of `shape` with values in [-1, 1]; labels from a fixed random linear rule, so the
// classes are (nearly) linearly separable and a small model can learn them.
inline rt::dataset synthetic_classes(int n, std::vector<int> shape, int classes,
                                     std::uint64_t seed = 7) {
  rt::dataset d;
  d.name = "synthetic";
  d.sample_shape = std::move(shape);
  d.classes = classes;
  const std::size_t k = d.sample_size();
  rt::rng r(seed, 99);
  std::vector<float> rule(k * std::size_t(classes));
  for (auto& w : rule) w = r.uniform(-1, 1);
  d.x.resize(std::size_t(n) * k);
  for (auto& v : d.x) v = r.uniform(-1, 1);
  for (int i = 0; i < n; ++i) {
    int best = 0;
    float best_score = -1e30f;
    for (int c = 0; c < classes; ++c) {
      float s = 0;
      for (std::size_t j = 0; j < k; ++j) s += rule[std::size_t(c) * k + j] * d.x[i * k + j];
      if (s > best_score) best_score = s, best = c;
    }
    d.labels.push_back(best);
  }
  return d;
}

// Regression: targets = a fixed random linear map of the inputs.
inline rt::dataset synthetic_regression(int n, int inputs, int outputs, std::uint64_t seed = 5) {
  rt::dataset d;
  d.name = "synthetic-regression";
  d.sample_shape = {inputs};
  d.target_size = outputs;
  rt::rng r(seed, 98);
  std::vector<float> map(std::size_t(inputs * outputs));
  for (auto& w : map) w = r.uniform(-1, 1);
  d.x.resize(std::size_t(n * inputs));
  for (auto& v : d.x) v = r.uniform(-1, 1);
  d.targets.resize(std::size_t(n * outputs));
  for (int i = 0; i < n; ++i)
    for (int o = 0; o < outputs; ++o) {
      float s = 0;
      for (int j = 0; j < inputs; ++j)
        s += map[std::size_t(o * inputs + j)] * d.x[std::size_t(i * inputs + j)];
      d.targets[std::size_t(i * outputs + o)] = s;
    }
  return d;
}

// The first `n` samples of `d` as one batch (no copy).
inline rt::batch first_batch(const rt::dataset& d, int n) {
  rt::batch b;
  b.n = n;
  b.x = d.x.data();
  b.labels = d.labels.empty() ? nullptr : d.labels.data();
  b.targets = d.targets.empty() ? nullptr : d.targets.data();
  return b;
}

// The magnitude a batch gradient adds up, per element of the gradient arena: the mean over the
// batch's samples of |that sample's own gradient| (a batch of one each). A sample's contribution
// is itself a sum over the P positions of a convolution's output; their terms are not visible
// here, which the callers allow for with a factor P.
template <class Trainer>
std::vector<double> sample_magnitudes(Trainer& t, const rt::batch& b, std::size_t sample_size) {
  std::vector<double> m(t.gradients().size(), 0.0);
  for (int s = 0; s < b.n; ++s) {
    rt::batch one = b;
    one.n = 1;
    one.x += std::size_t(s) * sample_size;
    if (one.labels) one.labels += s;
    t.gradient(one);
    const auto g = t.gradients();
    for (std::size_t e = 0; e < m.size(); ++e) m[e] += std::abs(double(g[e])) / b.n;
  }
  return m;
}

}  // namespace kiln::test
