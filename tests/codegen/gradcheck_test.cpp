// Finite-difference checks of every layer's and loss's backward pass, through the generated
// trainer: d(mean loss)/d(parameter) from gradient() against central differences of loss().
#define BOOST_TEST_MODULE gradcheck
#include <boost/test/unit_test.hpp>

#include <kiln/kiln.hpp>

#include <cmath>

#include "../support/gradcheck.hpp"

using namespace kiln::dsl;

namespace {

constexpr auto plan = schedule{.optimizer = sgd{.lr = 0.1}, .batch = 8};

template <auto Model>
double max_gradient_error(const kiln::rt::dataset& data, float eps = 1e-2f) {
  return kiln::test::max_gradient_error<Model, plan>(data, eps);
}

const auto vectors = kiln::test::synthetic_classes(8, {6}, 3);
const auto images = kiln::test::synthetic_classes(8, {2, 3, 3}, 3);
const auto targets = kiln::test::synthetic_regression(8, 5, 2);

}  // namespace

BOOST_AUTO_TEST_CASE(dense_and_softmax_cross_entropy) {
  constexpr auto m = input<6> | dense{.units = 5} | dense{.units = 3} | softmax_cross_entropy{};
  BOOST_TEST(max_gradient_error<m>(vectors) < 2e-3);
}

BOOST_AUTO_TEST_CASE(relu_layer) {
  constexpr auto m =
      input<6> | dense{.units = 7} | relu{} | dense{.units = 3} | softmax_cross_entropy{};
  // A smaller step: no pre-activation may cross the kink between the two evaluations.
  BOOST_TEST(max_gradient_error<m>(vectors, 1e-3f) < 2e-3);
}

BOOST_AUTO_TEST_CASE(leaky_relu_layer) {
  constexpr auto m = input<6> | dense{.units = 7} | leaky_relu{.slope = 0.2f} | dense{.units = 3} |
                     softmax_cross_entropy{};
  BOOST_TEST(max_gradient_error<m>(vectors) < 2e-3);
}

BOOST_AUTO_TEST_CASE(tanh_layer) {
  constexpr auto m =
      input<6> | dense{.units = 7} | tanh_{} | dense{.units = 3} | softmax_cross_entropy{};
  BOOST_TEST(max_gradient_error<m>(vectors) < 2e-3);
}

BOOST_AUTO_TEST_CASE(sigmoid_layer) {
  constexpr auto m =
      input<6> | dense{.units = 7} | sigmoid{} | dense{.units = 3} | softmax_cross_entropy{};
  BOOST_TEST(max_gradient_error<m>(vectors) < 2e-3);
}

BOOST_AUTO_TEST_CASE(flatten_of_an_image) {
  constexpr auto m = input<2, 3, 3> | flatten{} | dense{.units = 4} | tanh_{} | dense{.units = 3} |
                     softmax_cross_entropy{};
  BOOST_TEST(max_gradient_error<m>(images) < 2e-3);
}

BOOST_AUTO_TEST_CASE(mse_loss) {
  constexpr auto m = input<5> | dense{.units = 4} | sigmoid{} | dense{.units = 2} | mse{};
  BOOST_TEST(max_gradient_error<m>(targets) < 2e-3);
}
