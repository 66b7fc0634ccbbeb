// Same seed, same thread count, same target -> bit-identical weights.
#define BOOST_TEST_MODULE determinism
#include <boost/test/unit_test.hpp>

#include <kiln/kiln.hpp>

#include "../support/data.hpp"
#include "../support/runtime.hpp"

using namespace kiln::dsl;
using kiln::test::bitwise_equal;

namespace {
constexpr auto model = input<2, 5, 5> | flatten{} | dense{.units = 32} | relu{} |
                       dense{.units = 16} | tanh_{} | dense{.units = 4} | softmax_cross_entropy{};
constexpr auto plan = training_plan{.optimizer = sgd{.lr = 0.05, .momentum = 0.9, .nesterov = true},
                                    .regularizer = l2{1e-4},
                                    .batch = 32};

std::vector<float> train(std::uint64_t seed, int threads) {
  auto t = kiln::compile<model, plan>({.seed = seed, .seed_set = true, .threads = threads});
  const auto data = kiln::test::synthetic_classes(300, {2, 5, 5}, 4);
  t.fit(data, nullptr, {.epochs = 3, .batch = 32, .seed = seed, .progress = false});
  return {t.parameters().begin(), t.parameters().end()};
}

}  // namespace

BOOST_AUTO_TEST_CASE(same_seed_same_weights_bitwise) {
  BOOST_TEST(bitwise_equal(train(11, 1), train(11, 1)));
}

BOOST_AUTO_TEST_CASE(same_seed_same_weights_with_two_threads) {
  BOOST_TEST(bitwise_equal(train(11, 2), train(11, 2)));
}

BOOST_AUTO_TEST_CASE(another_seed_other_weights) {
  BOOST_TEST(!bitwise_equal(train(11, 1), train(12, 1)));
}
