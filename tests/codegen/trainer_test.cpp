// The generated trainer's behaviour: its view for the runtime (names, shapes, tensors), exact
// forward arithmetic, initialization, the SGD step, schedules, learning, and input checks.
#define BOOST_TEST_MODULE trainer
#include <boost/test/unit_test.hpp>

#include <kiln/kiln.hpp>

#include <cmath>

#include "../support/data.hpp"
#include "../support/targets.hpp"

using namespace kiln::dsl;

namespace {
constexpr auto mlp = input<1, 4, 4> | flatten{} | dense{.units = 8, .name = "fc1"} | relu{} |
                     dense{.units = 3} | softmax_cross_entropy{};
constexpr auto momentum_plan = training_plan{
    .optimizer = sgd{.lr = 0.1, .momentum = 0.9}, .epochs = 3, .batch = 16, .seed = 4};
}  // namespace

BOOST_AUTO_TEST_CASE(shapes_and_counts_are_compile_time_constants) {
  static_assert(in_shapes(mlp)[2] == vec(16));
  static_assert(output_shape(mlp) == vec(3));
  static_assert(param_count(mlp) == 16 * 8 + 8 + 8 * 3 + 3);
  static_assert(kiln::trainer<mlp, momentum_plan>::parameter_count == param_count(mlp));
  BOOST_TEST(param_count(mlp) == 163);
}

BOOST_AUTO_TEST_CASE(tensors_are_named_by_the_dsl_or_by_position) {
  auto t = kiln::compile<mlp, momentum_plan>();
  const auto ts = t.tensors();
  BOOST_REQUIRE_EQUAL(ts.size(), 12u);  // 4 parameters + 4 momentum buffers + 4 step counts
  BOOST_TEST(ts[0].name == "fc1.weight");
  BOOST_TEST(ts[0].shape == std::vector<int>({8, 16}), boost::test_tools::per_element());
  BOOST_TEST(ts[1].name == "fc1.bias");
  BOOST_TEST(ts[2].name == "3.weight");  // nn.Sequential numbering: flatten is module 0
  BOOST_TEST(ts[2].shape == std::vector<int>({3, 8}), boost::test_tools::per_element());
  BOOST_TEST(ts[3].name == "3.bias");
  BOOST_TEST(ts[4].name == "fc1.weight.momentum_buffer");
  BOOST_TEST((ts[4].role == kiln::rt::tensor_role::state));
  BOOST_TEST(t.info().input == std::vector<int>({1, 4, 4}), boost::test_tools::per_element());
  BOOST_TEST(t.info().outputs == 3);
  BOOST_TEST((t.info().kind == kiln::rt::task::classify));
  BOOST_TEST(t.info().batch == 16);
  BOOST_CHECK_THROW(t.tensor("nope"), kiln::config_error);
}

BOOST_AUTO_TEST_CASE(init_follows_pytorch_bounds_and_the_seed) {
  auto a = kiln::compile<mlp, momentum_plan>();
  auto b = kiln::compile<mlp, momentum_plan>();
  auto c = kiln::compile<mlp, momentum_plan>({.seed = 5, .seed_set = true});
  const auto w = a.tensor("fc1.weight");
  const float bound = 1.0f / std::sqrt(16.0f);
  double mean = 0;
  for (float v : w) {
    BOOST_TEST(std::abs(v) <= bound);
    mean += v;
  }
  BOOST_TEST(std::abs(mean / w.size()) < bound / 2);
  BOOST_TEST(std::equal(w.begin(), w.end(), b.tensor("fc1.weight").begin()));
  BOOST_TEST(!std::equal(w.begin(), w.end(), c.tensor("fc1.weight").begin()));
  for (float v : a.tensor("fc1.weight.momentum_buffer")) BOOST_TEST(v == 0.0f);
}

BOOST_AUTO_TEST_CASE(forward_is_x_times_w_transposed_plus_b) {
  constexpr auto linear = input<3> | dense{.units = 2} | mse{};
  constexpr auto plan = training_plan{.optimizer = sgd{.lr = 0.1}, .batch = 2};
  auto t = kiln::compile<linear, plan>();
  const float w[6] = {1, 2, 3, -1, 0.5f, 0.25f}, bias[2] = {0.5f, -2};
  std::copy(w, w + 6, t.tensor("0.weight").begin());
  std::copy(bias, bias + 2, t.tensor("0.bias").begin());
  const float x[6] = {1, 1, 1, 2, 0, -4};
  const float target[4] = {0, 0, 0, 0};
  float y[4];
  const auto r = t.eval_step({2, x, nullptr, target}, y);
  BOOST_TEST(y[0] == 6.5f);
  BOOST_TEST(y[1] == -2.25f);
  BOOST_TEST(y[2] == -9.5f);
  BOOST_TEST(y[3] == -5.0f);
  // Mean over outputs per sample, summed over samples (MSELoss(reduction='mean') * n). Every
  // value is a short binary fraction, exact in float and double: bit for bit.
  BOOST_TEST(r.loss_sum == (6.5 * 6.5 + 2.25 * 2.25) / 2 + (9.5 * 9.5 + 25.0) / 2);
}

BOOST_AUTO_TEST_CASE(a_step_applies_the_fused_sgd_update_to_the_gradient) {
  auto t = kiln::compile<mlp, momentum_plan>();
  const auto data = kiln::test::synthetic_classes(16, {1, 4, 4}, 3);
  const auto b = kiln::test::first_batch(data, 16);
  const std::vector<float> p0(t.parameters().begin(), t.parameters().end());
  t.gradient(b);
  const std::vector<float> g(t.gradients().begin(), t.gradients().end());
  t.begin_epoch(0, 1);
  t.train_step(b);
  // First step: momentum buffer = g, p -= lr * g. The loop rounds p - lr·g once where the
  // target has FMA and twice where not (as here): up to u of |lr·g| and u of the result apart.
  using kiln::test::u;
  for (std::size_t i = 0; i < p0.size(); ++i) {
    const float want = p0[i] - 0.1f * g[i];
    BOOST_TEST(std::abs(t.parameters()[i] - want) <=
               u * (std::abs(0.1f * g[i]) + 2 * std::abs(want)));
  }
  BOOST_TEST(t.steps() == 1);
  const auto buf = t.tensor("fc1.weight.momentum_buffer");
  const auto gw = std::span(g).subspan(0, buf.size());
  BOOST_TEST(std::equal(buf.begin(), buf.end(), gw.begin()));
}

BOOST_AUTO_TEST_CASE(step_decay_schedule_reaches_the_step) {
  constexpr auto plan =
      training_plan{.optimizer = sgd{.lr = 0.2}, .lr = step_decay{.every_epochs = 2, .gamma = 0.5}};
  auto t = kiln::compile<mlp, plan>();
  t.begin_epoch(0, 10);
  BOOST_TEST(t.current_lr() == 0.2);
  t.begin_epoch(2, 10);
  BOOST_TEST(t.current_lr() == 0.1);
  t.begin_epoch(5, 10);
  BOOST_TEST(t.current_lr() == 0.05);
}

BOOST_AUTO_TEST_CASE(learns_a_separable_problem) {
  auto t = kiln::compile<mlp, momentum_plan>();
  const auto train = kiln::test::synthetic_classes(512, {1, 4, 4}, 3);
  kiln::rt::fit_options o{.epochs = 15, .batch = 16, .seed = 1, .progress = false};
  const auto r = t.fit(train, &train, o);
  BOOST_TEST(r.epochs.back().train_loss < r.epochs.front().train_loss);
  BOOST_TEST(r.test.accuracy > 0.95);
}

BOOST_AUTO_TEST_CASE(learns_a_regression) {
  constexpr auto m = input<4> | dense{.units = 16} | tanh_{} | dense{.units = 2} | mse{};
  constexpr auto plan = training_plan{.optimizer = sgd{.lr = 0.05, .momentum = 0.9}, .batch = 16};
  auto t = kiln::compile<m, plan>();
  const auto data = kiln::test::synthetic_regression(256, 4, 2);
  const double before = kiln::rt::evaluate(t, data, 16).loss;
  t.fit(data, &data, {.epochs = 30, .batch = 16, .seed = 2, .progress = false});
  const double after = kiln::rt::evaluate(t, data, 16).loss;
  BOOST_TEST(after < before / 20);
}

BOOST_AUTO_TEST_CASE(a_batch_outside_the_compiled_size_is_an_error) {
  auto t = kiln::compile<mlp, momentum_plan>();
  const auto data = kiln::test::synthetic_classes(32, {1, 4, 4}, 3);
  BOOST_CHECK_THROW(t.train_step(kiln::test::first_batch(data, 17)), kiln::config_error);
  BOOST_CHECK_THROW(t.train_step(kiln::test::first_batch(data, 0)), kiln::config_error);
  BOOST_CHECK_THROW((kiln::compile<mlp, momentum_plan>({.batch = -1})), kiln::config_error);
  BOOST_CHECK_THROW((kiln::compile<mlp, momentum_plan>({.threads = 0})), kiln::config_error);
  auto big = kiln::compile<mlp, momentum_plan>({.batch = 32});
  BOOST_CHECK_NO_THROW(big.train_step(kiln::test::first_batch(data, 32)));
}

// KILN_TARGETS (tests/support/targets.hpp) decides where a step dispatches, from the first step
// on: the suites' second run on another target (scripts/test.sh) relies on it. Run once as the
// CPU decides and once with KILN_TARGETS=SCALAR (codegen_kiln_targets).
BOOST_AUTO_TEST_CASE(kiln_targets_decides_the_dispatch) {
  namespace cg = kiln::codegen;
  const std::int64_t forced = kiln::test::forced_targets();
  if (forced != 0) BOOST_TEST(hwy::SupportedTargets() == forced);
  // The best target compiled here and allowed; none (KILN_TARGETS=SSE4 in a suite built for
  // AVX3_DL and scalar): the scalar fallback.
  const std::int64_t usable = (forced != 0 ? forced : hwy::SupportedTargets()) & HWY_TARGETS;
  const std::int64_t expect = usable != 0 ? usable & -usable : HWY_SCALAR;
  BOOST_TEST(cg::chosen_target() == (usable & -usable));
  auto t = kiln::compile<mlp, momentum_plan>();
  const auto data = kiln::test::synthetic_classes(16, {1, 4, 4}, 3);
  t.train_step(kiln::test::first_batch(data, 16));
  BOOST_TEST(hwy::GetChosenTarget().GetIndex() == cg::table_index(expect), cg::target_name(expect));
}
