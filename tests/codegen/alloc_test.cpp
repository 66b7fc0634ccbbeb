// A training step allocates nothing: every buffer lives in the arena sized at construction.
#define BOOST_TEST_MODULE allocations
#include <boost/test/unit_test.hpp>

#include <kiln/kiln.hpp>

#include "../support/data.hpp"

#include "../support/allocations.hpp"

using kiln::test::allocations;

using namespace kiln::dsl;

BOOST_AUTO_TEST_CASE(steps_after_the_first_allocate_nothing) {
  constexpr auto model = input<1, 6, 6> | flatten{} | dense{.units = 32} | relu{} |
                         dense{.units = 5} | softmax_cross_entropy{};
  constexpr auto plan = training_plan{.optimizer = sgd{.lr = 0.05, .momentum = 0.9},
                                      .regularizer = l2{1e-4} + l1{1e-5},
                                      .batch = 16};
  auto t = kiln::compile<model, plan>();
  const auto data = kiln::test::synthetic_classes(64, {1, 6, 6}, 5);
  const auto b = kiln::test::first_batch(data, 16);
  t.begin_epoch(0, 4);
  t.train_step(b);  // the first may initialize libraries (dispatch tables, BLAS buffers)
  const long before = allocations.load();
  for (int i = 0; i < 50; ++i) t.train_step(b);
  for (int i = 0; i < 10; ++i) t.eval_step(b, nullptr);
  BOOST_TEST(allocations.load() - before == 0);
  // The counter works: a vector allocates.
  std::vector<int> v(10);
  BOOST_TEST(allocations.load() - before == 1);
}

BOOST_AUTO_TEST_CASE(cnn_steps_after_the_first_allocate_nothing) {
  // Every kind of layer with scratch: column matrices, running statistics, masks, regions,
  // a residual block's inner buffers, stochastic depth.
  constexpr auto block = chain | conv2d{.filters = 4, .kernel = 3, .pad = 1} | batch_norm{} |
                         relu{} | conv2d{.filters = 4, .kernel = 3, .pad = 1};
  constexpr auto model = input<1, 8, 8> | conv2d{.filters = 4, .kernel = 3, .pad = 1} |
                         batch_norm{} | relu{} | max_pool{.size = 2} |
                         residual{.body = block, .depth = stochastic_depth{.p_last = 0.5}} |
                         fractional_max_pool{.ratio = 1.41} | avg_pool{.size = 1} |
                         dropout{.p = 0.2} | flatten{} | dropconnect{.units = 8, .p = 0.3} |
                         batch_norm{} | dense{.units = 5} | softmax_cross_entropy{};
  constexpr auto plan = training_plan{.optimizer = sgd{.lr = 0.05, .momentum = 0.9},
                                      .regularizer = l2{1e-4},
                                      .lr = linear_warmup{.steps = 10, .then = cosine_restarts{}},
                                      .batch = 16};
  auto t = kiln::compile<model, plan>();
  const auto data = kiln::test::synthetic_classes(64, {1, 8, 8}, 5);
  const auto b = kiln::test::first_batch(data, 16);
  t.begin_epoch(0, 4);
  t.train_step(b);
  const long before = allocations.load();
  for (int i = 0; i < 30; ++i) t.train_step(b);
  for (int i = 0; i < 10; ++i) t.eval_step(b, nullptr);
  t.end_epoch({1, 0.5, 1, 0.5});
  BOOST_TEST(allocations.load() - before == 0);
}
