// gelu: its values against the formula in double, its gradients against finite differences,
// and its ONNX form run by ONNX Runtime.
#define BOOST_TEST_MODULE layers_gelu
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

}  // namespace

BOOST_AUTO_TEST_CASE(values_are_x_times_the_normal_distribution_function) {
  constexpr auto m = input<6> | gelu{} | dense{.units = 3} | softmax_cross_entropy{};
  auto t = kiln::compile<m, plan>();
  const auto b = kiln::test::first_batch(vectors, 8);
  std::vector<float> y(8 * 6);
  t.features(b, "0", y.data());
  // The inputs are in [-1, 1], so |y| < 0.85 and 1 + erf(x/√2) > 0.31: erff is within 2 ulp
  // (glibc), the three float products and the sum round once each (u = 2⁻²⁴ relative), so the
  // float result is within about 6 ulp of 0.85, 3e-7, of the exact value; 1e-6 leaves room.
  for (std::size_t i = 0; i < y.size(); ++i) {
    const double x = b.x[i];
    BOOST_TEST(std::abs(y[i] - 0.5 * x * (1 + std::erf(x / std::sqrt(2.0)))) < 1e-6);
  }
}

BOOST_AUTO_TEST_CASE(gradients_match_finite_differences) {
  // A layer with parameters before gelu, so that its input gradient is checked too.
  constexpr auto m =
      input<6> | dense{.units = 5} | gelu{} | dense{.units = 3} | softmax_cross_entropy{};
  BOOST_TEST((kiln::test::max_gradient_error<m, plan>(vectors, 1e-3f)) < 2e-3);
}

BOOST_AUTO_TEST_CASE(its_onnx_form_runs_in_onnx_runtime) {
  constexpr auto m = input<1, 28, 28> | flatten{} | dense{.units = 32, .name = "fc"} | gelu{} |
                     dense{.units = 10, .name = "head"} | softmax_cross_entropy{};
  auto t = kiln::compile<m, training_plan{.optimizer = sgd{.lr = 0.05}, .batch = 64}>();
  kiln::test::train_a_little(t, 20);
  const std::vector<float> x = kiln::test::test_images(256);
  kiln::test::exported_equals_kiln(t, {}, x, t.predict(x), "gelu");
}
