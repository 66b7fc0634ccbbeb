// Numerical faults: a NaN or infinite loss or gradient met by the generated trainer, handled by
// the plan's .nonfinite policy. stop_run throws kiln::numeric_error naming the step and the first
// bad tensor (the last checkpoint holding the last good state); skip_step leaves weights,
// optimizer state and running statistics as they were, lowers the learning rate, and stops after
// max_in_a_row skipped steps in a row. Through fit: skipped steps are counted per epoch, and the
// learning-rate state survives a checkpoint.
#define BOOST_TEST_MODULE faults
#include <boost/test/unit_test.hpp>

#include <kiln/kiln.hpp>

#include <cmath>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "../support/data.hpp"
#include "../support/runtime.hpp"
#include "../support/allocations.hpp"
#include "kiln/runtime/io/checkpoint.hpp"
#include "kiln/runtime/io/safetensors.hpp"

using namespace kiln::dsl;
namespace rt = kiln::rt;
using kiln::test::first_batch;
using kiln::test::synthetic_classes;

namespace {

constexpr float inf = std::numeric_limits<float>::infinity();
constexpr float big = std::numeric_limits<float>::max();

// With batch norm (running statistics a skipped step must restore), and without.
constexpr auto mlp = input<6> | dense{.units = 5, .name = "fc1"} | batch_norm{.name = "bn"} |
                     relu{} | dense{.units = 3, .name = "head"} | softmax_cross_entropy{};
constexpr auto plain = input<6> | dense{.units = 5, .name = "fc1"} | relu{} |
                       dense{.units = 3, .name = "head"} | softmax_cross_entropy{};
// tanh carries a NaN through where relu's max(x, 0) may drop it: the loss itself turns NaN.
constexpr auto smooth = input<6> | dense{.units = 5, .name = "fc1"} | tanh_{} |
                        dense{.units = 3, .name = "head"} | softmax_cross_entropy{};
constexpr float not_a_number = std::numeric_limits<float>::quiet_NaN();
constexpr auto stop_plan = training_plan{.optimizer = sgd{.lr = 0.1, .momentum = 0.9}, .batch = 16};
constexpr auto skip_plan =
    training_plan{.optimizer = sgd{.lr = 0.1, .momentum = 0.9},
                  .batch = 16,
                  .nonfinite = skip_step{.lr_factor = 0.5, .max_in_a_row = 3}};

using snapshot = std::map<std::string, std::vector<float>>;
snapshot save(const rt::model& m) {
  snapshot s;
  for (const auto& t : m.tensors()) s[t.name].assign(t.data.begin(), t.data.end());
  return s;
}

// 16 samples; with `poison`, the first holds `value` in every feature.
rt::dataset data(float value = 0, bool poison = false) {
  rt::dataset d = synthetic_classes(16, {6}, 3);
  if (poison) std::fill(d.x.begin(), d.x.begin() + 6, value);
  return d;
}

// Makes the next step's gradient of fc1.weight overflow while the loss stays finite (model
// `plain`): fc1's weights 0 (its output is its bias whatever the input), the head's large and
// different per class, and inputs at FLT_MAX -- dW = dyᵀ·x overflows, the forward pass never
// sees x.
template <class T>
void rig_gradient_overflow(T& t, rt::dataset& d) {
  for (float& w : t.tensor("fc1.weight")) w = 0;
  for (float& b : t.tensor("fc1.bias")) b = 0.5f;
  auto head = t.tensor("head.weight");
  for (std::size_t i = 0; i < head.size(); ++i) head[i] = 1000.0f * float(1 + i / 5);
  std::fill(d.x.begin(), d.x.end(), big);
}

template <class E>
E thrown(const std::function<void()>& f) {
  try {
    f();
  } catch (const E& e) {
    return e;
  }
  BOOST_FAIL("no exception");
  throw;
}

}  // namespace

BOOST_AUTO_TEST_CASE(stop_run_names_the_step_and_the_loss_and_changes_no_weight) {
  auto t = kiln::compile<smooth, stop_plan>();
  const auto good = data();
  t.train_step(first_batch(good, 16));
  const snapshot before = save(t);
  const auto bad = data(not_a_number, true);
  const auto e = thrown<kiln::numeric_error>([&] { t.train_step(first_batch(bad, 16)); });
  BOOST_TEST(e.step() == 2);
  BOOST_TEST(e.tensor() == "loss");
  BOOST_TEST(std::string(e.what()) ==
             "step 2: the loss is NaN; training stopped (plan: .nonfinite = stop_run{})");
  // The loss is checked before the backward pass: no weight or state moved.
  BOOST_TEST((save(t) == before));
}

BOOST_AUTO_TEST_CASE(a_nan_that_relu_hides_from_the_loss_shows_in_a_gradient) {
  auto t = kiln::compile<mlp, stop_plan>();
  const auto bad = data(not_a_number, true);
  const auto e = thrown<kiln::numeric_error>([&] { t.train_step(first_batch(bad, 16)); });
  BOOST_TEST(e.tensor() == "bn.weight");  // batch norm spreads the NaN; relu drops it
  BOOST_TEST(std::string(e.what()).find("step 1: the gradient of 'bn.weight' is not finite") == 0u,
             e.what());
}

BOOST_AUTO_TEST_CASE(stop_run_names_the_first_bad_gradient_of_the_backward_pass) {
  auto t = kiln::compile<plain, stop_plan>();
  auto d = data();
  rig_gradient_overflow(t, d);
  const auto e = thrown<kiln::numeric_error>([&] { t.train_step(first_batch(d, 16)); });
  BOOST_TEST(e.step() == 1);
  BOOST_TEST(e.tensor() == "fc1.weight");
  BOOST_TEST(std::string(e.what()).find("step 1: the gradient of 'fc1.weight' is not finite") == 0u,
             e.what());
}

BOOST_AUTO_TEST_CASE(stop_run_catches_an_update_that_overflows) {
  // A finite gradient, but optimizer state that makes the new weights non-finite: the check
  // fused into the update loop sees the weights it writes.
  auto t = kiln::compile<plain, stop_plan>();
  const auto d = data();
  t.train_step(first_batch(d, 16));
  for (float& m : t.tensor("head.weight.momentum_buffer")) m = inf;
  const auto e = thrown<kiln::numeric_error>([&] { t.train_step(first_batch(d, 16)); });
  BOOST_TEST(e.tensor() == "head.weight");
  BOOST_TEST(
      std::string(e.what()).find("the update made 'head.weight' non-finite") != std::string::npos,
      e.what());
}

BOOST_AUTO_TEST_CASE(global_clipping_checks_every_gradient_before_any_update) {
  constexpr auto clipped = training_plan{
      .optimizer = sgd{.lr = 0.1, .momentum = 0.9}, .regularizer = clip_norm{1.0}, .batch = 16};
  auto t = kiln::compile<plain, clipped>();
  auto d = data();
  rig_gradient_overflow(t, d);
  const snapshot before = save(t);
  const auto e = thrown<kiln::numeric_error>([&] { t.train_step(first_batch(d, 16)); });
  BOOST_TEST(e.tensor() == "fc1.weight");
  BOOST_TEST((save(t) == before));  // the reduction pass found it: nothing was updated
}

BOOST_AUTO_TEST_CASE(skip_step_changes_nothing_and_lowers_the_learning_rate) {
  auto t = kiln::compile<mlp, skip_plan>();
  const auto good = data();
  t.train_step(first_batch(good, 16));
  const snapshot before = save(t);
  const double lr = t.current_lr();
  const auto bad = data(not_a_number, true);
  const rt::step_result r = t.train_step(first_batch(bad, 16));  // a bad gradient (relu)
  BOOST_TEST(r.skipped);
  BOOST_TEST((save(t) == before));  // weights, momentum, steps, running statistics
  BOOST_TEST(t.current_lr() == lr * 0.5);
  BOOST_TEST(t.steps() == 2);

  auto s = kiln::compile<smooth, skip_plan>();
  const snapshot fresh = save(s);
  BOOST_TEST(s.train_step(first_batch(bad, 16)).skipped);  // a NaN loss
  BOOST_TEST((save(s) == fresh));
  BOOST_TEST(s.current_lr() == lr * 0.5);
  BOOST_TEST(!s.train_step(first_batch(good, 16)).skipped);
  BOOST_TEST(s.current_lr() == lr * 0.5);  // the lowered rate stays
}

BOOST_AUTO_TEST_CASE(skip_step_stops_after_max_in_a_row) {
  auto t = kiln::compile<smooth, skip_plan>();
  const auto good = data(), bad = data(not_a_number, true);
  BOOST_TEST(t.train_step(first_batch(bad, 16)).skipped);
  BOOST_TEST(t.train_step(first_batch(bad, 16)).skipped);
  BOOST_TEST(!t.train_step(first_batch(good, 16)).skipped);  // a good step resets the count
  BOOST_TEST(t.train_step(first_batch(bad, 16)).skipped);
  BOOST_TEST(t.train_step(first_batch(bad, 16)).skipped);
  const auto e = thrown<kiln::numeric_error>([&] { t.train_step(first_batch(bad, 16)); });
  BOOST_TEST(std::string(e.what()) ==
             "step 6: the loss is NaN (3 steps in a row); training stopped (plan: .nonfinite = "
             "skip_step{.max_in_a_row = 3})");
}

BOOST_AUTO_TEST_CASE(skipped_steps_allocate_nothing) {
  auto t = kiln::compile<mlp, skip_plan>();
  const auto good = data(), bad = data(not_a_number, true);
  t.train_step(first_batch(good, 16));
  const long before = kiln::test::allocations.load();
  for (int i = 0; i < 5; ++i) {
    t.train_step(first_batch(bad, 16));
    t.train_step(first_batch(good, 16));
  }
  BOOST_TEST(kiln::test::allocations.load() == before);
}

BOOST_AUTO_TEST_CASE(full_batch_plans_stop_too) {
  constexpr auto plan = training_plan{.optimizer = lbfgs{}, .batch = 16};
  auto t = kiln::compile<input<6> | dense{.units = 3} | softmax_cross_entropy{}, plan>();
  const auto bad = data(not_a_number, true);
  const auto e = thrown<kiln::numeric_error>([&] { t.train_step(first_batch(bad, 16)); });
  BOOST_TEST(e.tensor() == "loss");
}

// Through fit: the bad sample comes once per epoch; each epoch skips its step.
BOOST_AUTO_TEST_CASE(fit_counts_skipped_steps_and_checkpoints_keep_the_lowered_rate) {
  kiln::test::temp_dir dir;
  rt::dataset d = synthetic_classes(64, {6}, 3);
  std::fill(d.x.begin() + 6 * 10, d.x.begin() + 6 * 11, big);  // finite, but overflows
  auto t = kiln::compile<plain, skip_plan>();
  for (float& w : t.tensor("fc1.weight")) w = 1;  // 6·FLT_MAX: inf, then inf − inf in the head
  rt::fit_options o;
  o.epochs = 3, o.batch = 16, o.progress = false, o.out_dir = dir.path();
  o.checkpoint = dir / "c.safetensors";
  const auto r = rt::fit(t, d, nullptr, o);
  for (const auto& e : r.epochs) BOOST_TEST(e.skipped_steps == 1);
  BOOST_TEST(t.current_lr() == 0.1 * 0.125);
  for (const auto& p : t.parameters()) BOOST_TEST_REQUIRE(std::isfinite(p));
  const std::string csv = kiln::test::read_text(dir / "metrics.csv");
  BOOST_TEST(csv.find(",skipped_steps\n") != std::string::npos);
  BOOST_TEST(csv.find(",1\n3,") != std::string::npos, csv);

  auto again = kiln::compile<plain, skip_plan>();
  rt::load_checkpoint(dir / "c.safetensors", again);
  BOOST_TEST(again.current_lr() == t.current_lr());
}

BOOST_AUTO_TEST_CASE(fit_stops_and_the_last_checkpoint_is_the_last_good_state) {
  kiln::test::temp_dir dir;
  rt::dataset d = synthetic_classes(64, {6}, 3);
  std::fill(d.x.begin() + 6 * 10, d.x.begin() + 6 * 11, big);
  auto t = kiln::compile<plain, stop_plan>();
  for (float& w : t.tensor("fc1.weight")) w = 1;
  rt::fit_options o;
  o.epochs = 2, o.batch = 16, o.progress = false;
  o.checkpoint = dir / "c.safetensors", o.checkpoint_every = 1;
  const auto e = thrown<kiln::numeric_error>([&] { rt::fit(t, d, nullptr, o); });
  BOOST_TEST_REQUIRE(e.step() > 1);
  // The checkpoint is the state after the step before: valid, finite, and a run of that many
  // steps from scratch reaches exactly it.
  const rt::tensor_file f = rt::read_safetensors(dir / "c.safetensors");
  BOOST_TEST(rt::read_checkpoint_metadata(f).state.steps == e.step() - 1);
  for (const auto& tensor : f.tensors)
    for (float v : tensor.values) BOOST_TEST_REQUIRE(std::isfinite(v));
  auto fresh = kiln::compile<plain, stop_plan>();
  for (float& w : fresh.tensor("fc1.weight")) w = 1;
  o.checkpoint.clear();
  o.max_steps = e.step() - 1;
  o.epochs = 2;
  rt::fit(fresh, d, nullptr, o);
  for (const auto& tensor : fresh.tensors()) {
    const auto* saved = f.find(tensor.name);
    BOOST_TEST_REQUIRE(saved);
    BOOST_TEST((std::vector<float>(tensor.data.begin(), tensor.data.end()) == saved->values),
               tensor.name);
  }
}

BOOST_AUTO_TEST_CASE(data_with_nan_is_refused_before_training) {
  rt::dataset d = synthetic_classes(64, {6}, 3);
  d.x[6 * 7 + 2] = std::numeric_limits<float>::quiet_NaN();
  auto t = kiln::compile<mlp, stop_plan>();
  rt::fit_options o;
  o.batch = 16, o.progress = false;
  kiln::test::expect_error<kiln::config_error>([&] { rt::fit(t, d, nullptr, o); },
                                               "training data (synthetic)",
                                               "value 2 of sample 7 is NaN");
  BOOST_TEST(t.steps() == 0);
}
