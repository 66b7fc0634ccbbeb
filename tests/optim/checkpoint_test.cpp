// Optimizer state is what a checkpoint needs: saving every tensor of role `state` (and the
// parameters) mid-run and loading them into a fresh trainer continues the same trajectory,
// bit for bit, for every optimizer; leaving a state out changes it.
#define BOOST_TEST_MODULE optim_checkpoint
#include <boost/test/unit_test.hpp>

#include <kiln/kiln.hpp>

#include <map>
#include <string>
#include <vector>

#include "../support/data.hpp"

using namespace kiln::dsl;

namespace {

constexpr auto mlp = input<6> | dense{.units = 5, .name = "fc1"} | relu{} |
                     dense{.units = 3, .name = "head"} | softmax_cross_entropy{};

using snapshot = std::map<std::string, std::vector<float>>;

snapshot save(const kiln::rt::model& m) {
  snapshot s;
  for (const auto& t : m.tensors()) s[t.name].assign(t.data.begin(), t.data.end());
  return s;
}

void load(kiln::rt::model& m, const snapshot& s, const std::string& skip = "") {
  for (const auto& t : m.tensors())
    if (skip.empty() || !t.name.ends_with(skip))
      std::copy(s.at(t.name).begin(), s.at(t.name).end(), t.data.begin());
}

template <auto Plan>
void check_round_trip(const std::string& state_to_drop) {
  const auto data = kiln::test::synthetic_classes(64, {6}, 3);
  auto batch = [&](int i) { return kiln::test::first_batch(data, 16 + i % 3); };
  auto a = kiln::compile<mlp, Plan>();
  for (int i = 0; i < 4; ++i) a.train_step(batch(i));
  const snapshot mid = save(a);
  for (int i = 4; i < 9; ++i) a.train_step(batch(i));

  auto b = kiln::compile<mlp, Plan>({.seed = 99, .seed_set = true});
  load(b, mid);
  for (int i = 4; i < 9; ++i) b.train_step(batch(i));
  BOOST_TEST((save(a) == save(b)), "resumed from saved state");

  auto c = kiln::compile<mlp, Plan>({.seed = 99, .seed_set = true});
  load(c, mid, state_to_drop);
  for (int i = 4; i < 9; ++i) c.train_step(batch(i));
  BOOST_TEST((save(a) != save(c)), "without ." << state_to_drop);
}

}  // namespace

BOOST_AUTO_TEST_CASE(sgd_momentum) {
  check_round_trip<training_plan{.optimizer = sgd{.lr = 0.1, .momentum = 0.9, .nesterov = true}}>(
      "momentum_buffer");
}
BOOST_AUTO_TEST_CASE(sgd_first_step_is_state) {
  // A resumed run must not take the momentum buffer for a fresh one (PyTorch: buf is None).
  check_round_trip<training_plan{.optimizer = sgd{.lr = 0.1, .momentum = 0.9, .dampening = 0.5}}>(
      ".step");
}
BOOST_AUTO_TEST_CASE(adagrad_sum) {
  check_round_trip<training_plan{.optimizer = adagrad{.lr = 0.1, .lr_decay = 0.1}}>(".step");
}
BOOST_AUTO_TEST_CASE(rmsprop_centered_momentum) {
  check_round_trip<training_plan{
      .optimizer = rmsprop{.lr = 0.01, .momentum = 0.9, .centered = true}}>("grad_avg");
}
BOOST_AUTO_TEST_CASE(adam_bias_correction_step) {
  check_round_trip<training_plan{.optimizer = adam{.lr = 0.01, .amsgrad = true}}>(".step");
}
BOOST_AUTO_TEST_CASE(adamw_moments) {
  check_round_trip<training_plan{.optimizer = adamw{.lr = 0.01}, .regularizer = clip_norm{0.5}}>(
      "exp_avg_sq");
}
