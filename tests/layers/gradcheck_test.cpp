// Finite-difference checks of the convolutional and regularizing layers through the generated
// trainer: d(mean loss)/d(parameter) from gradient() against central differences of loss() in
// training mode. Random layers draw from the step's generator, so every loss() call at one step
// sees the same masks, regions and drops as gradient() did. Each layer under test has a layer
// with parameters before it, so its input gradient is checked too. Max pools follow a 1×1
// convolution: a wider kernel smooths its output, and near-equal neighbours would swap the max
// within a finite-difference step.
#define BOOST_TEST_MODULE layers_gradcheck
#include <boost/test/unit_test.hpp>

#include <kiln/kiln.hpp>

#include <algorithm>
#include <cmath>

#include "../support/gradcheck.hpp"

using namespace kiln::dsl;

namespace {

constexpr auto plan = training_plan{.optimizer = sgd{.lr = 0.1}, .batch = 8};

// The finite-difference check of Model with a step of eps, within what it can tell
// (kiln::test::gradcheck_tolerance: truncation and rounding of the difference quotient).
template <auto Model>
void check_gradient(const kiln::rt::dataset& data, float eps = 1e-3f) {
  const double error = kiln::test::max_gradient_error<Model, plan>(data, eps);
  const double allowed = kiln::test::gradcheck_tolerance(eps);
  BOOST_TEST(error < allowed, "relative error " << error << ", allowed " << allowed);
}

const auto images = kiln::test::synthetic_classes(8, {2, 7, 7}, 3);
const auto big_images = kiln::test::synthetic_classes(8, {1, 9, 9}, 3);
const auto vectors = kiln::test::synthetic_classes(8, {6}, 3);

constexpr auto head = chain | flatten{} | dense{.units = 3} | softmax_cross_entropy{};

}  // namespace

BOOST_AUTO_TEST_CASE(conv2d_same_padding) {
  constexpr auto m = input<2, 7, 7> | conv2d{.filters = 3, .kernel = 3, .pad = 1} |
                     conv2d{.filters = 2, .kernel = 3, .pad = 1} | head;
  check_gradient<m>(images);
}

BOOST_AUTO_TEST_CASE(conv2d_strided_and_padded) {
  constexpr auto m = input<2, 7, 7> | conv2d{.filters = 3, .kernel = 3, .pad = 1} |
                     conv2d{.filters = 2, .kernel = 3, .stride = 2, .pad = 1} | head;
  check_gradient<m>(images);
}

BOOST_AUTO_TEST_CASE(conv2d_valid_and_pointwise) {
  constexpr auto m = input<2, 7, 7> | conv2d{.filters = 3, .kernel = 3} |
                     conv2d{.filters = 2, .kernel = 1} |
                     conv2d{.filters = 2, .kernel = 2, .pad = 1} | head;
  check_gradient<m>(images);
}

BOOST_AUTO_TEST_CASE(max_pool_2x2_and_odd_sizes) {
  constexpr auto m =
      input<2, 7, 7> | conv2d{.filters = 2, .kernel = 1} | max_pool{.size = 2} | head;
  check_gradient<m>(images);
}

BOOST_AUTO_TEST_CASE(max_pool_overlapping_padded) {
  constexpr auto m = input<2, 7, 7> | conv2d{.filters = 2, .kernel = 1} |
                     max_pool{.size = 3, .stride = 2, .pad = 1} | head;
  check_gradient<m>(images);
}

BOOST_AUTO_TEST_CASE(avg_pool_2x2_and_padded) {
  constexpr auto m = input<2, 7, 7> | conv2d{.filters = 2, .kernel = 3, .pad = 1} |
                     avg_pool{.size = 2} | conv2d{.filters = 2, .kernel = 1} |
                     avg_pool{.size = 3, .stride = 1, .pad = 1} | head;
  check_gradient<m>(images);
}

BOOST_AUTO_TEST_CASE(global_avg_pool_layer) {
  constexpr auto m = input<2, 7, 7> | conv2d{.filters = 4, .kernel = 3} | global_avg_pool{} |
                     dense{.units = 3} | softmax_cross_entropy{};
  check_gradient<m>(images);
}

BOOST_AUTO_TEST_CASE(batch_norm_on_images_in_training_mode) {
  constexpr auto m =
      input<2, 7, 7> | conv2d{.filters = 3, .kernel = 3, .pad = 1} | batch_norm{} | tanh_{} | head;
  check_gradient<m>(images);
}

BOOST_AUTO_TEST_CASE(batch_norm_on_vectors_in_training_mode) {
  constexpr auto m = input<6> | dense{.units = 5} | batch_norm{} | tanh_{} | dense{.units = 3} |
                     softmax_cross_entropy{};
  check_gradient<m>(vectors);
}

BOOST_AUTO_TEST_CASE(dropout_with_the_steps_mask) {
  constexpr auto m = input<6> | dense{.units = 8} | dropout{.p = 0.4} | dense{.units = 3} |
                     softmax_cross_entropy{};
  check_gradient<m>(vectors);
}

BOOST_AUTO_TEST_CASE(dropconnect_with_the_steps_mask) {
  constexpr auto m = input<6> | dense{.units = 5} | tanh_{} | dropconnect{.units = 4, .p = 0.5} |
                     dense{.units = 3} | softmax_cross_entropy{};
  check_gradient<m>(vectors);
}

BOOST_AUTO_TEST_CASE(fractional_max_pool_disjoint_with_a_fixed_draw) {
  constexpr auto m =
      input<1, 9, 9> | conv2d{.filters = 2, .kernel = 1} | fractional_max_pool{.ratio = 1.5} | head;
  check_gradient<m>(big_images);
}

BOOST_AUTO_TEST_CASE(fractional_max_pool_overlapping_with_a_fixed_draw) {
  constexpr auto m = input<1, 9, 9> | conv2d{.filters = 2, .kernel = 1} |
                     fractional_max_pool{.ratio = 1.41, .overlapping = true} | head;
  check_gradient<m>(big_images);
}

BOOST_AUTO_TEST_CASE(residual_blocks) {
  constexpr auto block = chain | conv2d{.filters = 2, .kernel = 3, .pad = 1} | batch_norm{} |
                         tanh_{} | conv2d{.filters = 2, .kernel = 3, .pad = 1};
  constexpr auto m = input<2, 7, 7> | conv2d{.filters = 2, .kernel = 1} | residual{block} |
                     tanh_{} | residual{block} | head;
  check_gradient<m>(images);
}

BOOST_AUTO_TEST_CASE(residual_first_in_the_model_and_nested) {
  constexpr auto inner = chain | conv2d{.filters = 2, .kernel = 3, .pad = 1} | tanh_{};
  constexpr auto m = input<2, 7, 7> | residual{chain | tanh_{} | residual{inner}} | head;
  check_gradient<m>(images);
}

BOOST_AUTO_TEST_CASE(stochastic_depth_with_the_steps_drops) {
  constexpr auto block = chain | conv2d{.filters = 2, .kernel = 3, .pad = 1} | tanh_{};
  constexpr auto sd = stochastic_depth{.p_last = 0.5};
  constexpr auto m = input<2, 7, 7> | conv2d{.filters = 2, .kernel = 1} |
                     residual{.body = block, .depth = sd} | residual{.body = block, .depth = sd} |
                     head;
  check_gradient<m>(images);
}

BOOST_AUTO_TEST_CASE(conv2d_with_relu_fused) {
  // conv2d | relu runs as one op (codegen/lower.hpp). 1×1 kernels and a smaller step: a wider
  // kernel smooths its output, and pre-activations near 0 would cross the kink within the step.
  constexpr auto m = input<2, 7, 7> | conv2d{.filters = 3, .kernel = 1} | relu{} |
                     conv2d{.filters = 2, .kernel = 1} | relu{} | head;
  check_gradient<m>(images, 3e-4f);
}

BOOST_AUTO_TEST_CASE(fused_conv_relu_matches_the_unfused_layers) {
  // leaky_relu with slope 0 is ReLU, but is not fused into the convolution.
  constexpr auto fused = input<2, 7, 7> | conv2d{.filters = 3, .kernel = 3, .pad = 1} | relu{} |
                         conv2d{.filters = 2, .kernel = 3, .pad = 1} | relu{} | head;
  constexpr auto plain = input<2, 7, 7> | conv2d{.filters = 3, .kernel = 3, .pad = 1} |
                         leaky_relu{.slope = 0} | conv2d{.filters = 2, .kernel = 3, .pad = 1} |
                         leaky_relu{.slope = 0} | head;
  auto a = kiln::compile<fused, plan>();
  auto b = kiln::compile<plain, plan>();
  const auto batch = kiln::test::first_batch(images, 8);
  // The same products and sums in the same order (ReLU's zero, +0 or -0, adds nothing), in the
  // forward pass and the backward one: bit for bit.
  BOOST_TEST(a.gradient(batch).loss_sum == b.gradient(batch).loss_sum);
  BOOST_TEST(std::ranges::equal(a.gradients(), b.gradients()));
}

BOOST_AUTO_TEST_CASE(conv2d_relu_max_pool_fused) {
  // conv2d | relu | max_pool{2} runs as one op; odd sizes leave a row and a column uncovered.
  constexpr auto m = input<2, 7, 7> | conv2d{.filters = 3, .kernel = 1} | relu{} |
                     max_pool{.size = 2} | conv2d{.filters = 2, .kernel = 1} | relu{} |
                     max_pool{.size = 2} | head;
  check_gradient<m>(images, 3e-4f);
}

BOOST_AUTO_TEST_CASE(fused_conv_relu_pool_matches_the_unfused_layers) {
  constexpr auto fused = input<2, 7, 7> | conv2d{.filters = 3, .kernel = 3, .pad = 1} | relu{} |
                         max_pool{.size = 2} | conv2d{.filters = 2, .kernel = 3, .pad = 1} |
                         relu{} | max_pool{.size = 2} | head;
  constexpr auto plain = input<2, 7, 7> | conv2d{.filters = 3, .kernel = 3, .pad = 1} |
                         leaky_relu{.slope = 0} | max_pool{.size = 2} |
                         conv2d{.filters = 2, .kernel = 3, .pad = 1} | leaky_relu{.slope = 0} |
                         max_pool{.size = 2} | head;
  auto a = kiln::compile<fused, plan>();
  auto b = kiln::compile<plain, plan>();
  const auto batch = kiln::test::first_batch(images, 8);
  // Forward: the same operations in the same order, bit for bit.
  BOOST_TEST(a.gradient(batch).loss_sum == b.gradient(batch).loss_sum);
  const std::vector<float> ga(a.gradients().begin(), a.gradients().end());
  const auto ya = a.outputs(batch, false);
  const std::vector<float> first(ya.begin(), ya.end());
  BOOST_TEST(std::ranges::equal(first, b.outputs(batch, false)));
  // Backward: the fused kernel adds the bias gradient (and unpools) in its own order. Each
  // element sums 8 samples × 49 positions (the first convolution's 7×7 outputs):
  // two_orders(392) of the terms' magnitudes, taken normwise (the largest per-sample magnitude,
  // times the 49 positions inside a sample).
  const auto m = kiln::test::sample_magnitudes(b, batch, 2 * 7 * 7);
  b.gradient(batch);
  const double allowed = kiln::test::two_orders(8 * 49) * 49 * std::ranges::max(m);
  for (std::size_t i = 0; i < ga.size(); ++i)
    BOOST_TEST(std::abs(ga[i] - b.gradients()[i]) <= allowed, "element " << i);
}

BOOST_AUTO_TEST_CASE(conv_gradients_split_across_threads_match_one_thread) {
  constexpr auto m = input<2, 7, 7> | conv2d{.filters = 3, .kernel = 3, .pad = 1} | relu{} |
                     max_pool{.size = 2} | conv2d{.filters = 2, .kernel = 3, .pad = 1} |
                     batch_norm{} | relu{} | head;
  auto one = kiln::compile<m, plan>({.threads = 1});
  auto two = kiln::compile<m, plan>({.threads = 2});
  const auto batch = kiln::test::first_batch(images, 8);
  // The forward pass gives each member whole outputs (samples, channels), never part of a sum:
  // bit for bit.
  BOOST_TEST(one.gradient(batch).loss_sum == two.gradient(batch).loss_sum);
  const std::vector<float> a(one.gradients().begin(), one.gradients().end());
  // Backward: each member sums the weight gradients of its samples, then the parts are added: the
  // same 8 samples × 49 positions in another order (see fused_conv_relu_pool_...).
  const auto b = two.gradients();
  const auto mag = kiln::test::sample_magnitudes(one, batch, 2 * 7 * 7);
  const double allowed = kiln::test::two_orders(8 * 49) * 49 * std::ranges::max(mag);
  for (std::size_t i = 0; i < a.size(); ++i)
    BOOST_TEST(std::abs(a[i] - b[i]) <= allowed, "element " << i);
}
