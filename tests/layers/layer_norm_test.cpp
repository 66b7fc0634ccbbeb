// layer_norm: each sample normalized, its gradients against finite differences (flat and image
// inputs), the same gradients whatever the number of threads, and its ONNX form run by ONNX
// Runtime.
#define BOOST_TEST_MODULE layers_layer_norm
#include <boost/test/unit_test.hpp>

#include <kiln/kiln.hpp>

#include <cmath>
#include <vector>

#include "../support/gradcheck.hpp"
#include "../support/onnx.hpp"

using namespace kiln::dsl;

namespace {

constexpr auto plan = training_plan{.optimizer = sgd{.lr = 0.1}, .batch = 8};
const auto vectors = kiln::test::synthetic_classes(8, {6}, 3);
const auto images = kiln::test::synthetic_classes(8, {2, 7, 7}, 3);

}  // namespace

BOOST_AUTO_TEST_CASE(each_sample_has_mean_zero_and_variance_one) {
  constexpr auto m =
      input<6> | layer_norm{.name = "ln"} | dense{.units = 3} | softmax_cross_entropy{};
  auto t = kiln::compile<m, plan>();  // γ = 1, β = 0
  const auto b = kiln::test::first_batch(vectors, 8);
  std::vector<float> y(8 * 6);
  t.features(b, "ln", y.data());
  for (int s = 0; s < 8; ++s) {
    double mean = 0, var = 0, mean_x = 0, var_x = 0;
    for (int d = 0; d < 6; ++d) mean += y[s * 6 + d] / 6.0, mean_x += b.x[s * 6 + d] / 6.0;
    for (int d = 0; d < 6; ++d) {
      var += (y[s * 6 + d] - mean) * (y[s * 6 + d] - mean) / 6.0;
      var_x += (b.x[s * 6 + d] - mean_x) * (b.x[s * 6 + d] - mean_x) / 6.0;
    }
    // y = x̂ = (x − mean)/√(var + eps): mean 0 and variance var/(var + eps) exactly; each y is
    // x̂ after three float roundings (|x̂| ≤ √5 for 6 values, so within 3·2⁻²⁴·√5 ≈ 4e-7), which
    // moves the mean by as much and the variance by about 2·√5·4e-7 ≈ 2e-6.
    BOOST_TEST(std::abs(mean) < 1e-6);
    BOOST_TEST(std::abs(var - var_x / (var_x + 1e-5)) < 1e-5);
  }
}

BOOST_AUTO_TEST_CASE(gradients_match_finite_differences_on_vectors) {
  constexpr auto m =
      input<6> | dense{.units = 5} | layer_norm{} | dense{.units = 3} | softmax_cross_entropy{};
  BOOST_TEST((kiln::test::max_gradient_error<m, plan>(vectors, 1e-3f)) < 2e-3);
}

BOOST_AUTO_TEST_CASE(gradients_match_finite_differences_on_images) {
  constexpr auto m = input<2, 7, 7> | conv2d{.filters = 3, .kernel = 3, .pad = 1} | layer_norm{} |
                     flatten{} | dense{.units = 3} | softmax_cross_entropy{};
  BOOST_TEST((kiln::test::max_gradient_error<m, plan>(images, 1e-3f)) < 2e-3);
}

BOOST_AUTO_TEST_CASE(its_gradients_are_the_same_for_any_number_of_threads) {
  // Each member sums its own features over the samples in order: layer_norm's gradients are the
  // same bits whatever the team's size (other layers' kernels may split their sums differently).
  constexpr auto m = input<2, 7, 7> | layer_norm{.name = "ln"} | flatten{} | dense{.units = 3} |
                     softmax_cross_entropy{};
  kiln::trainer_options threads;
  threads.threads = 3;
  auto one = kiln::compile<m, plan>();
  auto three = kiln::compile<m, plan>(threads);
  const auto b = kiln::test::first_batch(images, 8);
  one.gradient(b);
  three.gradient(b);
  for (const char* name : {"ln.weight", "ln.bias"}) {
    const auto at = std::size_t(one.tensor(name).data() - one.parameters().data());
    const auto n = one.tensor(name).size();
    const std::vector<float> a(one.gradients().begin() + long(at),
                               one.gradients().begin() + long(at + n));
    const std::vector<float> c(three.gradients().begin() + long(at),
                               three.gradients().begin() + long(at + n));
    BOOST_TEST(a == c, boost::test_tools::per_element());
  }
}

BOOST_AUTO_TEST_CASE(its_onnx_form_runs_in_onnx_runtime) {
  constexpr auto m = input<1, 28, 28> | conv2d{.filters = 2, .kernel = 3, .pad = 1, .name = "c"} |
                     max_pool{.size = 2} | layer_norm{.name = "ln"} | relu{} | flatten{} |
                     dense{.units = 32, .name = "fc"} | layer_norm{.name = "flat"} |
                     dense{.units = 10, .name = "head"} | softmax_cross_entropy{};
  auto t = kiln::compile<m, training_plan{.optimizer = sgd{.lr = 0.05}, .batch = 64}>();
  kiln::test::train_a_little(t, 20);
  const std::vector<float> x = kiln::test::test_images(256);
  kiln::test::exported_equals_kiln(t, {}, x, t.predict(x), "layer_norm");
}
