// Finite-difference checks of every layer's and loss's backward pass, through the generated
// trainer: d(mean loss)/d(parameter) from gradient() against central differences of loss().
#define BOOST_TEST_MODULE gradcheck
#include <boost/test/unit_test.hpp>

#include <kiln/kiln.hpp>

#include <cmath>

#include "../support/gradcheck.hpp"

using namespace kiln::dsl;

namespace {

constexpr auto plan = training_plan{.optimizer = sgd{.lr = 0.1}, .batch = 8};

// The finite-difference check of Model with a step of eps, within what it can tell
// (kiln::test::gradcheck_tolerance: truncation and rounding of the difference quotient).
template <auto Model>
void check_gradient(const kiln::rt::dataset& data, float eps = 1e-2f) {
  const double error = kiln::test::max_gradient_error<Model, plan>(data, eps);
  const double allowed = kiln::test::gradcheck_tolerance(eps);
  BOOST_TEST(error < allowed, "relative error " << error << ", allowed " << allowed);
}

const auto vectors = kiln::test::synthetic_classes(8, {6}, 3);
const auto images = kiln::test::synthetic_classes(8, {2, 3, 3}, 3);
const auto targets = kiln::test::synthetic_regression(8, 5, 2);

}  // namespace

BOOST_AUTO_TEST_CASE(dense_and_softmax_cross_entropy) {
  constexpr auto m = input<6> | dense{.units = 5} | dense{.units = 3} | softmax_cross_entropy{};
  check_gradient<m>(vectors);
}

BOOST_AUTO_TEST_CASE(relu_layer) {
  constexpr auto m =
      input<6> | dense{.units = 7} | relu{} | dense{.units = 3} | softmax_cross_entropy{};
  // A smaller step: no pre-activation may cross the kink between the two evaluations.
  check_gradient<m>(vectors, 1e-3f);
}

BOOST_AUTO_TEST_CASE(leaky_relu_layer) {
  constexpr auto m = input<6> | dense{.units = 7} | leaky_relu{.slope = 0.2f} | dense{.units = 3} |
                     softmax_cross_entropy{};
  // A kink like ReLU's: the smaller step (with 1e-2 a pre-activation crosses it: 1.9e-3).
  check_gradient<m>(vectors, 1e-3f);
}

BOOST_AUTO_TEST_CASE(tanh_layer) {
  constexpr auto m =
      input<6> | dense{.units = 7} | tanh_{} | dense{.units = 3} | softmax_cross_entropy{};
  check_gradient<m>(vectors);
}

BOOST_AUTO_TEST_CASE(sigmoid_layer) {
  constexpr auto m =
      input<6> | dense{.units = 7} | sigmoid{} | dense{.units = 3} | softmax_cross_entropy{};
  check_gradient<m>(vectors);
}

BOOST_AUTO_TEST_CASE(flatten_of_an_image) {
  constexpr auto m = input<2, 3, 3> | flatten{} | dense{.units = 4} | tanh_{} | dense{.units = 3} |
                     softmax_cross_entropy{};
  check_gradient<m>(images);
}

BOOST_AUTO_TEST_CASE(mse_loss) {
  constexpr auto m = input<5> | dense{.units = 4} | sigmoid{} | dense{.units = 2} | mse{};
  check_gradient<m>(targets);
}
