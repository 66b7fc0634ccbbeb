// Training versus evaluation behaviour of the layers that add noise in training: at evaluation
// each gives (close to) the mean of its training-mode outputs. Training draws change with the
// step: a plan with lr = 0 lets train_step() advance the step without changing weights.
#define BOOST_TEST_MODULE layers_train_eval
#include <boost/test/unit_test.hpp>

#include <kiln/kiln.hpp>

#include <algorithm>
#include <cmath>
#include <vector>

#include "../support/rounding.hpp"

using namespace kiln::dsl;
namespace tt = boost::test_tools;

namespace {

constexpr auto still = training_plan{.optimizer = sgd{.lr = 0}, .batch = 4};

// The mean of the training-mode outputs over `steps` steps, and the evaluation outputs.
template <class T>
std::pair<std::vector<double>, std::vector<float>> mean_and_eval(T& t, const kiln::rt::batch& b,
                                                                 int steps) {
  const auto eval = t.outputs(b, false);
  std::vector<float> at_eval(eval.begin(), eval.end());
  std::vector<double> mean(at_eval.size());
  for (int s = 0; s < steps; ++s) {
    const auto y = t.outputs(b, true);
    for (std::size_t i = 0; i < mean.size(); ++i) mean[i] += y[i] / steps;
    t.train_step(b);  // lr = 0: only the step (and so the draws) changes
  }
  return {mean, at_eval};
}

std::vector<float> values(int n, float lo, float hi) {
  std::vector<float> v(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) v[std::size_t(i)] = lo + (hi - lo) * float(i) / float(n - 1);
  return v;
}

}  // namespace

BOOST_AUTO_TEST_CASE(dropout_is_identity_at_eval_and_unbiased_in_training) {
  constexpr auto m = input<16> | dropout{.p = 0.3} | mse{};
  auto t = kiln::compile<m, still>();
  const auto x = values(4 * 16, 0.5f, 2.0f), zero = std::vector<float>(64);
  const kiln::rt::batch b{4, x.data(), nullptr, zero.data()};
  const auto [mean, eval] = mean_and_eval(t, b, 3000);
  int kept = 0;
  const auto y = t.outputs(b, true);
  for (std::size_t i = 0; i < x.size(); ++i) {
    BOOST_TEST(eval[i] == x[i]);
    // Each draw is x/0.7 with probability 0.7, else 0: σ = x·√(0.3/0.7)/√3000 ≈ 1.2 % of x;
    // 5σ.
    BOOST_TEST(mean[i] == x[i], tt::tolerance(0.06));
    // x times the float of 1/(1 - 0.3) (two roundings) against x/0.7f (0.7f is 0.3u from 0.7, one
    // rounding): 4u of the value.
    BOOST_TEST((y[i] == 0 || std::abs(y[i] - x[i] / 0.7f) <= 4 * kiln::test::u * x[i] / 0.7f));
    kept += y[i] != 0;
  }
  BOOST_TEST(std::abs(kept / 64.0 - 0.7) < 0.2);  // 64 draws: σ = √(0.7·0.3/64) ≈ 0.057
}

BOOST_AUTO_TEST_CASE(dropconnect_uses_the_expected_weights_at_eval) {
  constexpr auto m = input<8> | dropconnect{.units = 3, .p = 0.5} | mse{};
  auto t = kiln::compile<m, still>();
  const auto x = values(4 * 8, -1.0f, 1.0f), zero = std::vector<float>(12);
  const kiln::rt::batch b{4, x.data(), nullptr, zero.data()};
  // Evaluation is x·Wᵀ + b with the stored weights.
  const auto w = t.tensor("0.weight"), bias = t.tensor("0.bias");
  const auto [mean, eval] = mean_and_eval(t, b, 4000);
  for (int s = 0; s < 4; ++s)
    for (int u = 0; u < 3; ++u) {
      double want = bias[u], magnitude = std::abs(bias[u]), spread = 0;
      for (int i = 0; i < 8; ++i) {
        want += double(x[s * 8 + i]) * w[u * 8 + i];
        magnitude += std::abs(double(x[s * 8 + i]) * w[u * 8 + i]);
        spread += std::pow(double(x[s * 8 + i]) * w[u * 8 + i], 2);
      }
      // A float dot product of 8 terms and the bias (and the output's rounding).
      BOOST_TEST(std::abs(eval[s * 3 + u] - want) <=
                 kiln::test::sum_error(9) * magnitude + kiln::test::u * std::abs(want));
      // Each draw keeps every x·w with probability 0.5, doubled: the mean of 4000 draws has
      // σ = √(Σ (x·w)²)/√4000; 6σ.
      BOOST_TEST(std::abs(mean[s * 3 + u] - want) <= 6 * std::sqrt(spread / 4000));
    }
}

BOOST_AUTO_TEST_CASE(batch_norm_uses_batch_statistics_in_training_and_running_ones_at_eval) {
  constexpr auto m = input<2, 2, 3> | batch_norm{.momentum = 0.1} | flatten{} | mse{};
  auto t = kiln::compile<m, still>();
  const auto x = values(4 * 12, -1.0f, 3.0f), zero = std::vector<float>(48);
  const kiln::rt::batch b{4, x.data(), nullptr, zero.data()};
  constexpr double eps = 1e-5, n = 24;  // per channel: 4 samples × a plane of 6
  auto at = [](int s, int c, int p) { return s * 12 + c * 6 + p; };
  // The batch's statistics, exactly (double): mean, biased variance, largest |x|, per channel.
  double mu[2] = {}, var[2] = {}, big[2] = {};
  for (int c = 0; c < 2; ++c) {
    for (int s = 0; s < 4; ++s)
      for (int p = 0; p < 6; ++p) mu[c] += x[at(s, c, p)] / n;
    for (int s = 0; s < 4; ++s)
      for (int p = 0; p < 6; ++p) {
        var[c] += std::pow(x[at(s, c, p)] - mu[c], 2) / n;
        big[c] = std::max(big[c], double(std::abs(x[at(s, c, p)])));
      }
  }
  // What float32 changes in a normalized value, (x - μ)·a with a = 1/√(var + eps), relative to
  // a·max|x|: the kernel's μ (planes of 6 summed in float, samples in double: sum_error(6) and a
  // rounding), its variance (the same, its square root and reciprocal 2u more: half of it in a),
  // and the affine step's 3 roundings.
  auto norm_error = [&](int c, double var_used) {
    return (2 * kiln::test::sum_error(6) + 8 * kiln::test::u) * big[c] / std::sqrt(var_used + eps);
  };
  // Training: per channel, mean 0 and variance var/(var + eps) over the batch and the plane.
  const auto y = t.outputs(b, true);
  for (int c = 0; c < 2; ++c) {
    double mean = 0, sq = 0, largest = 0;
    for (int s = 0; s < 4; ++s)
      for (int p = 0; p < 6; ++p) {
        const double v = y[at(s, c, p)];
        mean += v / n, sq += v * v / n, largest = std::max(largest, std::abs(v));
      }
    BOOST_TEST(std::abs(mean) <= norm_error(c, var[c]));
    BOOST_TEST(std::abs(sq - mean * mean - var[c] / (var[c] + eps)) <=
               2 * largest * norm_error(c, var[c]) + 4 * n * 0x1p-53);  // and the double sums
  }
  // outputs() changes nothing; a training step moves the running statistics (PyTorch: unbiased
  // variance) and counts the batch.
  BOOST_TEST(t.tensor("0.num_batches_tracked")[0] == 0.0f);
  t.train_step(b);
  BOOST_TEST(t.tensor("0.num_batches_tracked")[0] == 1.0f);
  const auto rm = t.tensor("0.running_mean"), rv = t.tensor("0.running_var");
  using kiln::test::sum_error, kiln::test::u;
  for (int c = 0; c < 2; ++c) {
    // 0.9·0 + 0.1·μ and 0.9·1 + 0.1·var·n/(n - 1): the kernel's μ and variance as above, the
    // update's two roundings.
    BOOST_TEST(std::abs(rm[c] - 0.1 * mu[c]) <=
               0.1 * (sum_error(6) + 2 * u) * big[c] + 2 * u * std::abs(rm[c]));
    const double unbiased = var[c] * n / (n - 1);
    BOOST_TEST(std::abs(rv[c] - (0.9 + 0.1 * unbiased)) <=
               0.1 * (sum_error(6) + 4 * u) * unbiased + 3 * u * rv[c]);
  }
  // Evaluation: (x − running_mean) / √(running_var + eps) (γ = 1, β = 0): the scale (2u), the
  // shift (u) and the affine step (2u) round, relative to (|x| + |running_mean|)·a.
  const auto e = t.outputs(b, false);
  for (int s = 0; s < 4; ++s)
    for (int c = 0; c < 2; ++c)
      for (int p = 0; p < 6; ++p) {
        const int i = at(s, c, p);
        const double a = 1 / std::sqrt(double(rv[c]) + eps);
        BOOST_TEST(std::abs(e[i] - (x[i] - rm[c]) * a) <=
                   5 * u * (std::abs(x[i]) + std::abs(rm[c])) * a);
      }
  // After many steps on one batch the running statistics are the batch's (0.9^201 of the start
  // is left): evaluation is training scaled by √((var + eps)/(var·n/(n - 1) + eps)), each
  // within norm_error of its exact value.
  for (int k = 0; k < 200; ++k) t.train_step(b);
  const auto trained = t.outputs(b, true);
  const std::vector<float> at_train(trained.begin(), trained.end());
  const auto evaluated = t.outputs(b, false);
  for (int s = 0; s < 4; ++s)
    for (int c = 0; c < 2; ++c)
      for (int p = 0; p < 6; ++p) {
        const int i = at(s, c, p);
        const double unbiased = var[c] * n / (n - 1);
        const double ratio = std::sqrt((var[c] + eps) / (unbiased + eps));
        const double left = std::pow(0.9, 201) * (std::abs(mu[c]) + 1) / std::sqrt(unbiased + eps);
        BOOST_TEST(std::abs(evaluated[i] - at_train[i] * ratio) <=
                   2 * norm_error(c, unbiased) + 5 * u * std::abs(evaluated[i]) + left);
      }
}

BOOST_AUTO_TEST_CASE(fractional_max_pool_draws_regions_per_step_and_fixes_them_at_eval) {
  constexpr auto m = input<1, 12, 12> | fractional_max_pool{.ratio = 1.5} | flatten{} | mse{};
  auto t = kiln::compile<m, still>();
  // A smooth image (a ramp): the max of a region is its bottom-right value.
  std::vector<float> x(4 * 144), zero(4 * 64);
  for (int s = 0; s < 4; ++s)
    for (int h = 0; h < 12; ++h)
      for (int w = 0; w < 12; ++w) x[s * 144 + h * 12 + w] = float(h + w);
  const kiln::rt::batch b{4, x.data(), nullptr, zero.data()};
  const auto first = t.outputs(b, true);
  const std::vector<float> a(first.begin(), first.end());
  bool differs = false;  // new regions at some later step (a few region sets exist: 12 → 8)
  for (int s = 0; s < 10 && !differs; ++s) {
    t.train_step(b);
    const auto later = t.outputs(b, true);
    for (std::size_t i = 0; i < a.size(); ++i) differs = differs || a[i] != later[i];
  }
  BOOST_TEST(differs);
  const auto [mean, eval] = mean_and_eval(t, b, 400);
  const auto again = t.outputs(b, false);
  for (std::size_t i = 0; i < eval.size(); ++i) {
    BOOST_TEST(again[i] == eval[i]);  // evaluation regions are fixed
    // Evaluation rounds the expected boundaries: at most half a pixel per axis.
    BOOST_TEST(std::abs(mean[i] - eval[i]) <= 1.0);
  }
}

BOOST_AUTO_TEST_CASE(stochastic_depth_drops_blocks_in_training_and_scales_them_at_eval) {
  constexpr auto block = chain | dense{.units = 6} | tanh_{};
  constexpr auto m =
      input<6> | residual{.body = block, .depth = stochastic_depth{.p_last = 0.5}} | mse{};
  auto t = kiln::compile<m, still>();
  const auto x = values(4 * 6, -1.0f, 1.0f), zero = std::vector<float>(24);
  const kiln::rt::batch b{4, x.data(), nullptr, zero.data()};
  // One block: it is the deepest, p = 0.5. Training gives x or x + f(x).
  const auto e = t.outputs(b, false);
  const std::vector<float> eval(e.begin(), e.end());
  int dropped = 0;
  const int steps = 2000;
  std::vector<double> mean(eval.size());
  for (int s = 0; s < steps; ++s) {
    const auto y = t.outputs(b, true);
    dropped += y[0] == x[0];
    for (std::size_t i = 0; i < mean.size(); ++i) mean[i] += y[i] / steps;
    t.train_step(b);
  }
  BOOST_TEST(std::abs(dropped / double(steps) - 0.5) < 0.05);  // σ = 0.5/√2000 ≈ 0.011; 4.5σ
  // The block drops for the whole batch: the training outputs average to x + kept·f(x) exactly,
  // with kept the fraction of steps it ran; evaluation is x + 0.5·f(x), so f(x) comes back from
  // it within 2 roundings (of 0.5·f and of the sum) of |eval| and |x|, doubled by the 1/0.5.
  const double kept = 1 - dropped / double(steps);
  for (std::size_t i = 0; i < eval.size(); ++i) {
    const double f = (double(eval[i]) - x[i]) / 0.5;
    BOOST_TEST(std::abs(mean[i] - (x[i] + kept * f)) <=
               4 * kiln::test::u * (std::abs(eval[i]) + std::abs(x[i])) + steps * 0x1p-53 * 4);
  }
}

BOOST_AUTO_TEST_CASE(survival_decays_linearly_with_depth) {
  constexpr auto block = chain | dense{.units = 4};
  constexpr auto sd = stochastic_depth{.p_last = 0.4};
  constexpr auto m = input<4> | residual{.body = block, .depth = sd} | residual{block} |
                     residual{.body = block, .depth = sd} | mse{};
  constexpr auto r = resolve(m);
  static_assert(at<1>(r).survival > 0.79 && at<1>(r).survival < 0.81);  // 1 − 1/3·0.6
  static_assert(at<2>(r).survival == 1);                                // no stochastic depth
  static_assert(at<3>(r).survival > 0.39 && at<3>(r).survival < 0.41);  // p_last
  BOOST_TEST(at<1>(r).survival == 0.8, tt::tolerance(4 * 0x1p-53));     // 1 - 1/3·0.6 in double
}

BOOST_AUTO_TEST_CASE(a_dropped_block_has_zero_gradients) {
  constexpr auto block = chain | dense{.units = 3} | batch_norm{};
  constexpr auto m = input<3> | dense{.units = 3} |
                     residual{.body = block, .depth = stochastic_depth{.p_last = 0.5}} | mse{};
  auto t = kiln::compile<m, still>();
  const auto x = values(4 * 3, -1.0f, 1.0f), zero = std::vector<float>(12);
  const kiln::rt::batch b{4, x.data(), nullptr, zero.data()};
  int seen_drop = 0;
  for (int s = 0; s < 20 && !seen_drop; ++s) {
    const auto before = t.tensor("1.1.num_batches_tracked")[0];
    t.gradient(b);
    const auto g = t.gradients();
    const auto w = t.tensor("1.0.weight");
    const std::size_t at = std::size_t(w.data() - t.parameters().data());
    bool zero_grads = true;
    for (std::size_t i = 0; i < w.size(); ++i) zero_grads = zero_grads && g[at + i] == 0;
    if (zero_grads) {
      ++seen_drop;
      BOOST_TEST(t.tensor("1.1.num_batches_tracked")[0] == before);  // the body did not run
    }
    t.train_step(b);
  }
  BOOST_TEST(seen_drop == 1);
}

BOOST_AUTO_TEST_CASE(features_after_a_fused_chain_and_a_clear_refusal_inside_it) {
  // conv2d | relu | max_pool runs as one op (codegen/lower.hpp): the pool's output is stored,
  // the conv's and the ReLU's are not.
  constexpr auto fused = input<1, 6, 6> | conv2d{.filters = 2, .kernel = 3, .pad = 1} | relu{} |
                         max_pool{.size = 2} | flatten{} | dense{.units = 3} | mse{};
  constexpr auto plain = input<1, 6, 6> | conv2d{.filters = 2, .kernel = 3, .pad = 1} |
                         leaky_relu{.slope = 0} | max_pool{.size = 2} | flatten{} |
                         dense{.units = 3} | mse{};
  auto a = kiln::compile<fused, still>();
  auto b = kiln::compile<plain, still>();
  const auto x = values(4 * 36, -1.0f, 1.0f), zero = std::vector<float>(12);
  const kiln::rt::batch batch{4, x.data(), nullptr, zero.data()};
  BOOST_TEST(a.output_shape("2") == std::vector<int>({2, 3, 3}), tt::per_element());
  std::vector<float> fa(4 * 18), fb(4 * 18);
  a.features(batch, "2", fa.data());
  b.features(batch, "2", fb.data());
  // The same operations in the same order: bit for bit.
  BOOST_TEST(fa == fb, tt::per_element());
  BOOST_CHECK_THROW(a.features(batch, "0", fa.data()), kiln::config_error);
  BOOST_CHECK_THROW(a.features(batch, "1", fa.data()), kiln::config_error);
}
