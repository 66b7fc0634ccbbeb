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

#include <cmath>

#include "../support/gradcheck.hpp"

using namespace kiln::dsl;

namespace {

constexpr auto plan = schedule{.optimizer = sgd{.lr = 0.1}, .batch = 8};

template <auto Model>
double max_gradient_error(const kiln::rt::dataset& data, float eps = 1e-3f) {
  return kiln::test::max_gradient_error<Model, plan>(data, eps);
}

const auto images = kiln::test::synthetic_classes(8, {2, 7, 7}, 3);
const auto big_images = kiln::test::synthetic_classes(8, {1, 9, 9}, 3);
const auto vectors = kiln::test::synthetic_classes(8, {6}, 3);

constexpr auto head = chain | flatten{} | dense{.units = 3} | softmax_cross_entropy{};

}  // namespace

BOOST_AUTO_TEST_CASE(conv2d_same_padding) {
  constexpr auto m = input<2, 7, 7> | conv2d{.filters = 3, .kernel = 3, .pad = 1} |
                     conv2d{.filters = 2, .kernel = 3, .pad = 1} | head;
  BOOST_TEST(max_gradient_error<m>(images) < 2e-3);
}

BOOST_AUTO_TEST_CASE(conv2d_strided_and_padded) {
  constexpr auto m = input<2, 7, 7> | conv2d{.filters = 3, .kernel = 3, .pad = 1} |
                     conv2d{.filters = 2, .kernel = 3, .stride = 2, .pad = 1} | head;
  BOOST_TEST(max_gradient_error<m>(images) < 2e-3);
}

BOOST_AUTO_TEST_CASE(conv2d_valid_and_pointwise) {
  constexpr auto m = input<2, 7, 7> | conv2d{.filters = 3, .kernel = 3} |
                     conv2d{.filters = 2, .kernel = 1} |
                     conv2d{.filters = 2, .kernel = 2, .pad = 1} | head;
  BOOST_TEST(max_gradient_error<m>(images) < 2e-3);
}

BOOST_AUTO_TEST_CASE(max_pool_2x2_and_odd_sizes) {
  constexpr auto m =
      input<2, 7, 7> | conv2d{.filters = 2, .kernel = 1} | max_pool{.size = 2} | head;
  BOOST_TEST(max_gradient_error<m>(images) < 2e-3);
}

BOOST_AUTO_TEST_CASE(max_pool_overlapping_padded) {
  constexpr auto m = input<2, 7, 7> | conv2d{.filters = 2, .kernel = 1} |
                     max_pool{.size = 3, .stride = 2, .pad = 1} | head;
  BOOST_TEST(max_gradient_error<m>(images) < 2e-3);
}

BOOST_AUTO_TEST_CASE(avg_pool_2x2_and_padded) {
  constexpr auto m = input<2, 7, 7> | conv2d{.filters = 2, .kernel = 3, .pad = 1} |
                     avg_pool{.size = 2} | conv2d{.filters = 2, .kernel = 1} |
                     avg_pool{.size = 3, .stride = 1, .pad = 1} | head;
  BOOST_TEST(max_gradient_error<m>(images) < 2e-3);
}

BOOST_AUTO_TEST_CASE(global_avg_pool_layer) {
  constexpr auto m = input<2, 7, 7> | conv2d{.filters = 4, .kernel = 3} | global_avg_pool{} |
                     dense{.units = 3} | softmax_cross_entropy{};
  BOOST_TEST(max_gradient_error<m>(images) < 2e-3);
}

BOOST_AUTO_TEST_CASE(batch_norm_on_images_in_training_mode) {
  constexpr auto m =
      input<2, 7, 7> | conv2d{.filters = 3, .kernel = 3, .pad = 1} | batch_norm{} | tanh_{} | head;
  BOOST_TEST(max_gradient_error<m>(images) < 2e-3);
}

BOOST_AUTO_TEST_CASE(batch_norm_on_vectors_in_training_mode) {
  constexpr auto m = input<6> | dense{.units = 5} | batch_norm{} | tanh_{} | dense{.units = 3} |
                     softmax_cross_entropy{};
  BOOST_TEST(max_gradient_error<m>(vectors) < 2e-3);
}

BOOST_AUTO_TEST_CASE(dropout_with_the_steps_mask) {
  constexpr auto m = input<6> | dense{.units = 8} | dropout{.p = 0.4} | dense{.units = 3} |
                     softmax_cross_entropy{};
  BOOST_TEST(max_gradient_error<m>(vectors) < 2e-3);
}

BOOST_AUTO_TEST_CASE(dropconnect_with_the_steps_mask) {
  constexpr auto m = input<6> | dense{.units = 5} | tanh_{} | dropconnect{.units = 4, .p = 0.5} |
                     dense{.units = 3} | softmax_cross_entropy{};
  BOOST_TEST(max_gradient_error<m>(vectors) < 2e-3);
}

BOOST_AUTO_TEST_CASE(fractional_max_pool_disjoint_with_a_fixed_draw) {
  constexpr auto m =
      input<1, 9, 9> | conv2d{.filters = 2, .kernel = 1} | fractional_max_pool{.ratio = 1.5} | head;
  BOOST_TEST(max_gradient_error<m>(big_images) < 2e-3);
}

BOOST_AUTO_TEST_CASE(fractional_max_pool_overlapping_with_a_fixed_draw) {
  constexpr auto m = input<1, 9, 9> | conv2d{.filters = 2, .kernel = 1} |
                     fractional_max_pool{.ratio = 1.41, .overlapping = true} | head;
  BOOST_TEST(max_gradient_error<m>(big_images) < 2e-3);
}

BOOST_AUTO_TEST_CASE(residual_blocks) {
  constexpr auto block = chain | conv2d{.filters = 2, .kernel = 3, .pad = 1} | batch_norm{} |
                         tanh_{} | conv2d{.filters = 2, .kernel = 3, .pad = 1};
  constexpr auto m = input<2, 7, 7> | conv2d{.filters = 2, .kernel = 1} | residual{block} |
                     tanh_{} | residual{block} | head;
  BOOST_TEST(max_gradient_error<m>(images) < 2e-3);
}

BOOST_AUTO_TEST_CASE(residual_first_in_the_model_and_nested) {
  constexpr auto inner = chain | conv2d{.filters = 2, .kernel = 3, .pad = 1} | tanh_{};
  constexpr auto m = input<2, 7, 7> | residual{chain | tanh_{} | residual{inner}} | head;
  BOOST_TEST(max_gradient_error<m>(images) < 2e-3);
}

BOOST_AUTO_TEST_CASE(stochastic_depth_with_the_steps_drops) {
  constexpr auto block = chain | conv2d{.filters = 2, .kernel = 3, .pad = 1} | tanh_{};
  constexpr auto sd = stochastic_depth{.p_last = 0.5};
  constexpr auto m = input<2, 7, 7> | conv2d{.filters = 2, .kernel = 1} |
                     residual{.body = block, .depth = sd} | residual{.body = block, .depth = sd} |
                     head;
  BOOST_TEST(max_gradient_error<m>(images) < 2e-3);
}

BOOST_AUTO_TEST_CASE(conv2d_with_relu_fused) {
  // conv2d | relu runs as one op (codegen/lower.hpp). 1×1 kernels and a smaller step: a wider
  // kernel smooths its output, and pre-activations near 0 would cross the kink within the step.
  constexpr auto m = input<2, 7, 7> | conv2d{.filters = 3, .kernel = 1} | relu{} |
                     conv2d{.filters = 2, .kernel = 1} | relu{} | head;
  BOOST_TEST(max_gradient_error<m>(images, 3e-4f) < 2e-3);
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
  BOOST_TEST(a.gradient(batch).loss_sum == b.gradient(batch).loss_sum,
             boost::test_tools::tolerance(1e-6));
  const auto ga = a.gradients(), gb = b.gradients();
  for (std::size_t i = 0; i < ga.size(); ++i)
    BOOST_TEST(ga[i] == gb[i], boost::test_tools::tolerance(1e-4f));
}

BOOST_AUTO_TEST_CASE(conv2d_relu_max_pool_fused) {
  // conv2d | relu | max_pool{2} runs as one op; odd sizes leave a row and a column uncovered.
  constexpr auto m = input<2, 7, 7> | conv2d{.filters = 3, .kernel = 1} | relu{} |
                     max_pool{.size = 2} | conv2d{.filters = 2, .kernel = 1} | relu{} |
                     max_pool{.size = 2} | head;
  BOOST_TEST(max_gradient_error<m>(images, 3e-4f) < 2e-3);
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
  BOOST_TEST(a.gradient(batch).loss_sum == b.gradient(batch).loss_sum,
             boost::test_tools::tolerance(1e-6));
  const auto ga = a.gradients(), gb = b.gradients();
  for (std::size_t i = 0; i < ga.size(); ++i)
    BOOST_TEST(ga[i] == gb[i], boost::test_tools::tolerance(1e-4f));
  const auto ya = a.outputs(batch, false);
  const std::vector<float> first(ya.begin(), ya.end());
  const auto yb = b.outputs(batch, false);
  for (std::size_t i = 0; i < first.size(); ++i)
    BOOST_TEST(first[i] == yb[i], boost::test_tools::tolerance(1e-5f));
}

BOOST_AUTO_TEST_CASE(conv_gradients_split_across_threads_match_one_thread) {
  constexpr auto m = input<2, 7, 7> | conv2d{.filters = 3, .kernel = 3, .pad = 1} | relu{} |
                     max_pool{.size = 2} | conv2d{.filters = 2, .kernel = 3, .pad = 1} |
                     batch_norm{} | relu{} | head;
  auto one = kiln::compile<m, plan>({.threads = 1});
  auto two = kiln::compile<m, plan>({.threads = 2});
  const auto batch = kiln::test::first_batch(images, 8);
  BOOST_TEST(one.gradient(batch).loss_sum == two.gradient(batch).loss_sum,
             boost::test_tools::tolerance(1e-9));
  const auto a = one.gradients(), b = two.gradients();
  for (std::size_t i = 0; i < a.size(); ++i)
    BOOST_TEST(a[i] == b[i], boost::test_tools::tolerance(1e-4f));
}
