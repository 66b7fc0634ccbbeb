// The optimizer generator inside a trainer: state tensors named like PyTorch's state dict,
// clipping by global norm (update after the whole backward pass) and by value, max_norm on weight
// rows, the step count as state, threads. Which tensors decay: decay_test.cpp.
#define BOOST_TEST_MODULE optim_trainer
#include <boost/test/unit_test.hpp>

#include <kiln/kiln.hpp>

#include <cmath>
#include <string>
#include <vector>

#include "../support/data.hpp"

using namespace kiln::dsl;

namespace {

constexpr auto mlp = input<6> | dense{.units = 5, .name = "fc1"} | relu{} |
                     dense{.units = 3, .name = "head"} | softmax_cross_entropy{};

const auto data = kiln::test::synthetic_classes(32, {6}, 3);
const auto batch = kiln::test::first_batch(data, 16);

template <auto Plan>
std::vector<std::string> state_names() {
  auto t = kiln::compile<mlp, Plan>();
  std::vector<std::string> names;
  for (const auto& x : t.tensors())
    if (x.role == kiln::rt::tensor_role::state && x.name.starts_with("fc1.weight."))
      names.push_back(x.name.substr(11));
  return names;
}

std::vector<float> copy(std::span<const float> s) { return {s.begin(), s.end()}; }

}  // namespace

BOOST_AUTO_TEST_CASE(every_optimizer_names_its_state_like_pytorch) {
  using v = std::vector<std::string>;
  BOOST_TEST((state_names<training_plan{.optimizer = sgd{}}>() == v{"step"}));
  BOOST_TEST((state_names<training_plan{.optimizer = sgd{.momentum = 0.9}}>() ==
              v{"momentum_buffer", "step"}));
  BOOST_TEST((state_names<training_plan{.optimizer = adagrad{}}>() == v{"sum", "step"}));
  BOOST_TEST(
      (state_names<training_plan{.optimizer = rmsprop{.momentum = 0.9, .centered = true}}>() ==
       v{"square_avg", "momentum_buffer", "grad_avg", "step"}));
  BOOST_TEST((state_names<training_plan{.optimizer = rmsprop{.centered = true}}>() ==
              v{"square_avg", "grad_avg", "step"}));
  BOOST_TEST(
      (state_names<training_plan{.optimizer = adam{}}>() == v{"exp_avg", "exp_avg_sq", "step"}));
  BOOST_TEST((state_names<training_plan{.optimizer = adamw{.amsgrad = true}}>() ==
              v{"exp_avg", "exp_avg_sq", "max_exp_avg_sq", "step"}));
}

BOOST_AUTO_TEST_CASE(state_starts_as_pytorch_creates_it_and_steps_count) {
  auto t =
      kiln::compile<mlp, training_plan{.optimizer = adagrad{.initial_accumulator_value = 0.25}}>();
  for (float v : t.tensor("head.bias.sum")) BOOST_TEST(v == 0.25f);
  const auto step = t.tensor("head.bias.step");
  BOOST_TEST(step.size() == 1u);
  BOOST_TEST(step[0] == 0.0f);
  for (int i = 0; i < 3; ++i) t.train_step(batch);
  BOOST_TEST(step[0] == 3.0f);
  BOOST_TEST(t.tensor("fc1.weight.step")[0] == 3.0f);
  t.reset();
  BOOST_TEST(step[0] == 0.0f);
}

BOOST_AUTO_TEST_CASE(clip_norm_scales_every_gradient_by_the_global_norm) {
  constexpr double c = 0.05, lr = 0.5;
  auto t =
      kiln::compile<mlp, training_plan{.optimizer = sgd{.lr = lr}, .regularizer = clip_norm{c}}>();
  const auto p0 = copy(t.parameters());
  t.gradient(batch);
  const auto g = copy(t.gradients());
  double sumsq = 0;
  for (float x : g) sumsq += double(x) * x;
  const double scale = std::min(1.0, c / (std::sqrt(sumsq) + 1e-6));
  BOOST_TEST_REQUIRE(scale < 0.5);  // the test clips
  t.train_step(batch);
  // The trainer's squared norm is a float sum of at most p0.size() squares (blocks added in
  // double): within sum_error of it, the scale within half that; the update then rounds p - lr·g·s
  // once or twice, the test's expression three times: up to (sum_error/2 + 4u)·|lr·g·s| and 2u of
  // the result apart.
  using kiln::test::u;
  for (std::size_t i = 0; i < p0.size(); ++i) {
    const float step = float(lr) * (g[i] * float(scale)), want = p0[i] - step;
    const double allowed =
        (kiln::test::sum_error(p0.size()) / 2 + 4 * u) * std::abs(step) + 2 * u * std::abs(want);
    BOOST_TEST(std::abs(t.parameters()[i] - want) <= allowed, "element " << i);
  }
}

BOOST_AUTO_TEST_CASE(clip_value_clamps_each_gradient) {
  constexpr double c = 0.01, lr = 0.5;
  auto t =
      kiln::compile<mlp, training_plan{.optimizer = sgd{.lr = lr}, .regularizer = clip_value{c}}>();
  const auto p0 = copy(t.parameters());
  t.gradient(batch);
  const auto g = copy(t.gradients());
  t.train_step(batch);
  int clipped = 0;
  for (std::size_t i = 0; i < p0.size(); ++i) {
    const float gc = std::clamp(g[i], float(-c), float(c));
    clipped += gc != g[i];
    // p - lr·gc rounded once (FMA) or twice, as the test does: u of |lr·gc| and 2u of |p|.
    const float want = p0[i] - float(lr) * gc;
    BOOST_TEST(std::abs(t.parameters()[i] - want) <=
               kiln::test::u * (std::abs(float(lr) * gc) + 2 * std::abs(want)));
  }
  BOOST_TEST(clipped > 10);
}

BOOST_AUTO_TEST_CASE(max_norm_bounds_every_weight_row_and_leaves_biases) {
  constexpr double c = 0.3;
  auto t =
      kiln::compile<mlp, training_plan{.optimizer = sgd{.lr = 2.0}, .regularizer = max_norm{c}}>();
  for (int i = 0; i < 5; ++i) t.train_step(batch);
  auto row_norms = [&](const char* name, int rows) {
    const auto w = t.tensor(name);
    const std::size_t len = w.size() / std::size_t(rows);
    std::vector<double> out;
    for (int r = 0; r < rows; ++r) {
      double s = 0;
      for (std::size_t j = 0; j < len; ++j) s += double(w[r * len + j]) * w[r * len + j];
      out.push_back(std::sqrt(s));
    }
    return out;
  };
  // A row above c is scaled by c/(‖row‖ + 1e-7), its norm taken in float over the row's len
  // elements (within sum_error(len)/2 of the norm, and u/2 from the square root) and every
  // element rounded once more (u): the new norm is at most c·(1 + sum_error(len)/2 + 2u).
  auto bound = [&](std::size_t len) {
    return c * (1 + kiln::test::sum_error(len) / 2 + 2 * kiln::test::u);
  };
  int at_bound = 0;
  for (double n : row_norms("fc1.weight", 5)) {
    BOOST_TEST(n <= bound(6));
    at_bound += n > c * 0.999;
  }
  for (double n : row_norms("head.weight", 3)) BOOST_TEST(n <= bound(5));
  BOOST_TEST(at_bound > 0);  // the constraint was active
  double bias = 0;
  for (float b : t.tensor("head.bias")) bias = std::max(bias, double(std::abs(b)));
  BOOST_TEST(bias > c);  // a bias has no rows: not constrained
}

BOOST_AUTO_TEST_CASE(two_threads_update_the_same_rows_as_one) {
  // Threads split each tensor at row boundaries (max_norm's unit); the result is bit-identical.
  constexpr auto plan =
      training_plan{.optimizer = adamw{.lr = 0.05}, .regularizer = clip_norm{0.1} + max_norm{0.5}};
  auto one = kiln::compile<mlp, plan>();
  auto two = kiln::compile<mlp, plan>({.threads = 2});
  for (int i = 0; i < 4; ++i) {
    one.train_step(batch);
    two.train_step(batch);
  }
  for (const auto& t : one.tensors()) BOOST_TEST(copy(t.data) == copy(two.tensor(t.name)), t.name);
}
