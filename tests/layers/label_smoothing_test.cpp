// softmax_cross_entropy{.label_smoothing = ε}: the kernels against the cross-entropy of the
// smoothed target computed another way (log-softmax in double, Σ_k −t_k·log p_k), the trainer's
// gradient against finite differences, and what training on smoothed targets converges to.
#define BOOST_TEST_MODULE layers_label_smoothing
#include <boost/test/unit_test.hpp>

#include <kiln/codegen/kernels/label_smoothing.hpp>
#include <kiln/runtime/ensemble/ensemble.hpp>
#include <kiln/kiln.hpp>

#include <cmath>
#include <cstdint>
#include <vector>

#include "../support/gradcheck.hpp"

using namespace kiln::dsl;
namespace kk = kiln::kernels;

namespace {

constexpr int rows = 6, classes = 5;

// Logits spread over ±8 so that some rows are confident and some are not; labels cycle.
std::vector<float> logits() {
  std::vector<float> z(rows * classes);
  for (std::size_t i = 0; i < z.size(); ++i) z[i] = float(std::sin(double(i) * 1.7) * 8.0);
  return z;
}
std::vector<std::int32_t> labels() {
  std::vector<std::int32_t> y(rows);
  for (int r = 0; r < rows; ++r) y[std::size_t(r)] = (r * 3) % classes;
  return y;
}

// The target t = (1 − ε)·onehot + ε/K; loss Σ_rows Σ_k −t_k·log p_k and d/dz = p − t, in double.
struct reference {
  double loss = 0;
  std::vector<double> grad;
};
reference smoothed(const std::vector<float>& z, const std::vector<std::int32_t>& y, double eps) {
  reference ref;
  for (int r = 0; r < rows; ++r) {
    const float* row = z.data() + r * classes;
    double top = row[0];
    for (int k = 1; k < classes; ++k) top = std::max(top, double(row[k]));
    double sum = 0;
    for (int k = 0; k < classes; ++k) sum += std::exp(double(row[k]) - top);
    for (int k = 0; k < classes; ++k) {
      const double log_p = double(row[k]) - top - std::log(sum);
      const double t = (k == y[std::size_t(r)] ? 1 - eps : 0) + eps / classes;
      ref.loss -= t * log_p;
      ref.grad.push_back(std::exp(log_p) - t);
    }
  }
  return ref;
}

}  // namespace

// Each row's loss is a few float operations on logits of size ≤ 8 (exp, a sum of 5 terms, one
// log): its error is a few ulp of the row's lse, ≈ 8·2⁻²³·4 ≈ 4e-6, so 1e-5 per row bounds the
// sum of 6 rows with room; the gradient's entries are p − t with p from the float softmax
// (relative error ~1e-6 of values ≤ 1): 1e-6 absolute.
BOOST_AUTO_TEST_CASE(kernels_match_the_cross_entropy_of_the_smoothed_target) {
  const auto z = logits();
  const auto y = labels();
  for (const double eps : {0.0, 0.1, 0.3, 1.0}) {
    std::vector<float> p(z.size()), d(z.size());
    const auto s = kk::smoothed_cross_entropy(z.data(), y.data(), rows, classes, eps, p.data());
    kk::smoothed_cross_entropy_backward(p.data(), y.data(), rows, classes, eps, 1.0f, d.data());
    const reference ref = smoothed(z, y, eps);
    BOOST_TEST(std::abs(s.loss - ref.loss) < rows * 1e-5, "ε " << eps);
    for (std::size_t i = 0; i < d.size(); ++i) BOOST_TEST(std::abs(d[i] - ref.grad[i]) < 1e-6);
    // The arg-max, and so the correct count, is the plain kernel's.
    std::vector<float> q(z.size());
    BOOST_TEST(s.correct ==
               kk::softmax_cross_entropy(z.data(), y.data(), rows, classes, q.data()).correct);
  }
}

// ε = 0 is the plain loss: same probabilities and gradient bit for bit, and the same loss to
// the last bits of a double sum of float terms.
BOOST_AUTO_TEST_CASE(no_smoothing_is_the_plain_loss) {
  const auto z = logits();
  const auto y = labels();
  std::vector<float> p(z.size()), q(z.size()), d(z.size()), e(z.size());
  const auto s = kk::smoothed_cross_entropy(z.data(), y.data(), rows, classes, 0, p.data());
  const auto plain = kk::softmax_cross_entropy(z.data(), y.data(), rows, classes, q.data());
  kk::smoothed_cross_entropy_backward(p.data(), y.data(), rows, classes, 0, 4.0f, d.data());
  kk::softmax_cross_entropy_backward(q.data(), y.data(), rows, classes, 4.0f, e.data());
  BOOST_TEST(p == q);
  BOOST_TEST(d == e);
  BOOST_TEST(std::abs(s.loss - plain.loss) < 1e-5);
}

// Through the trainer: central differences of loss() against gradient(), as the other layers'
// checks (tests/layers/gradcheck_test.cpp) and with the same bound: ε = 1e-3 steps on float
// losses of size ~2 make the difference quotient's rounding ~2·2⁻²⁴·2/2e-3 ≈ 1e-4 of a
// gradient, and its O(ε²) truncation is smaller; 2e-3 relative to max(|numeric|, 0.1) leaves
// room for the float forward pass.
BOOST_AUTO_TEST_CASE(gradient_of_the_smoothed_loss) {
  constexpr auto plan = training_plan{.optimizer = sgd{.lr = 0.1}, .batch = 8};
  const auto images = kiln::test::synthetic_classes(8, {2, 7, 7}, 3);
  constexpr auto m = input<2, 7, 7> | conv2d{.filters = 3, .kernel = 3, .pad = 1} | flatten{} |
                     dense{.units = 3} | softmax_cross_entropy{.label_smoothing = 0.2};
  BOOST_TEST((kiln::test::max_gradient_error<m, plan>(images, 1e-3f)) < 2e-3);
  constexpr auto all = input<2, 7, 7> | flatten{} | dense{.units = 3} |
                       softmax_cross_entropy{.label_smoothing = 1.0};
  BOOST_TEST((kiln::test::max_gradient_error<all, plan>(images, 1e-3f)) < 2e-3);
}

// Trained to convergence on well-separated data (each sample a one-hot of its class, scaled,
// plus a small deterministic offset), the plain loss drives the label's probability towards 1;
// the smoothed loss's minimum is the target itself, p_label = 1 − ε + ε/K, which a linear model
// reaches on every sample (its logits need only a fixed gap, log((1 − ε + ε/K) / (ε/K)) ≈ 4.2
// for ε = 0.1, K = 3). The smoothed model's mean is within 0.005 of it after 2000 full-batch
// steps (the gradient there is zero: the optimum is reached, not approached as with the plain
// loss); the plain model's passes it and keeps rising.
BOOST_AUTO_TEST_CASE(training_converges_to_the_smoothed_target) {
  constexpr int m = 30;
  kiln::rt::dataset data;
  data.sample_shape = {3};
  data.classes = 3;
  for (int i = 0; i < m; ++i) {
    data.labels.push_back(i % 3);
    for (int k = 0; k < 3; ++k)
      data.x.push_back((k == i % 3 ? 2.0f : 0.0f) + 0.1f * float(std::sin(i * 3.0 + k)));
  }
  const kiln::rt::batch b{m, data.x.data(), data.labels.data(), nullptr};
  auto label_probability = [&](auto& t) {
    for (int s = 0; s < 2000; ++s) t.train_step(b);
    const auto z = t.outputs(b, false);
    std::vector<float> p(z.size());
    kiln::rt::softmax_rows(z.data(), m, 3, p.data());
    double mean = 0;
    for (int i = 0; i < m; ++i) mean += p[std::size_t(i) * 3 + std::size_t(data.labels[i])] / m;
    return mean;
  };
  constexpr auto plan = training_plan{.optimizer = sgd{.lr = 0.5, .momentum = 0.9}, .batch = m};
  constexpr auto smooth =
      input<3> | dense{.units = 3} | softmax_cross_entropy{.label_smoothing = 0.1};
  constexpr auto plain = input<3> | dense{.units = 3} | softmax_cross_entropy{};
  auto s = kiln::compile<smooth, plan>();
  auto p = kiln::compile<plain, plan>();
  const double target = 1 - 0.1 + 0.1 / 3;
  const double smoothed = label_probability(s), unsmoothed = label_probability(p);
  BOOST_TEST_MESSAGE("p(label): smoothed " << smoothed << ", plain " << unsmoothed);
  BOOST_TEST(std::abs(smoothed - target) < 0.005);
  BOOST_TEST(unsmoothed > target + 0.05);
}
