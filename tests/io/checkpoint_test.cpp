// Checkpoints: a run stopped mid-epoch and resumed ends bitwise where an uninterrupted run
// ends (weights, optimizer state, metrics); checkpoints refuse another model, another seed or
// batch, and damaged metadata; the loader resumes an epoch with the same batches.
#define BOOST_TEST_MODULE io_checkpoint
#include <boost/test/unit_test.hpp>

#include <kiln/kiln.hpp>

#include <cstring>

#include "../support/data.hpp"
#include "../support/runtime.hpp"
#include "kiln/runtime/data/loader.hpp"
#include "kiln/runtime/io/checkpoint.hpp"
#include "kiln/runtime/io/import.hpp"
#include "kiln/runtime/io/safetensors.hpp"

using namespace kiln::dsl;
using kiln::config_error;
using kiln::file_error;
using kiln::test::all_tensors;
using kiln::test::bitwise_equal;
using kiln::test::expect_error;
namespace rt = kiln::rt;

namespace {

constexpr auto mlp = input<12> | dense{.units = 16, .name = "fc1"} | relu{} |
                     dense{.units = 4, .name = "head"} | softmax_cross_entropy{};
constexpr auto plan = training_plan{.optimizer = sgd{.lr = 0.05, .momentum = 0.9},
                                    .lr = step_decay{.every_epochs = 1, .gamma = 0.7},
                                    .batch = 16,
                                    .seed = 3};
constexpr auto other_plan = training_plan{.optimizer = sgd{.lr = 0.05}, .batch = 16, .seed = 3};
using trainer_t = kiln::trainer<mlp, plan>;

const rt::dataset& data() {
  static const rt::dataset d = kiln::test::synthetic_classes(200, {12}, 4);  // 13 batches
  return d;
}

rt::fit_options options(const kiln::test::temp_dir& dir) {
  rt::fit_options o;
  o.epochs = 3;
  o.batch = 16;
  o.seed = 9;
  o.progress = false;
  o.checkpoint = dir / "checkpoint.safetensors";
  return o;
}

}  // namespace

BOOST_AUTO_TEST_CASE(resume_mid_epoch_is_bit_identical) {
  kiln::test::temp_dir dir;
  trainer_t whole;
  const auto full = whole.fit(data(), nullptr, options(dir));

  for (const long stop : {5L, 13L, 20L}) {  // mid first epoch, at its end, mid second
    trainer_t first;
    auto o = options(dir);
    o.max_steps = stop;
    BOOST_TEST(first.fit(data(), nullptr, o).stopped);
    trainer_t second({.seed = 77, .seed_set = true});  // another init: the checkpoint replaces it
    o.max_steps = 0;
    o.resume = o.checkpoint;
    const auto rest = second.fit(data(), nullptr, o);
    BOOST_TEST(bitwise_equal(all_tensors(second), all_tensors(whole)));
    BOOST_TEST(second.steps() == whole.steps());
    // The epochs after the stop report exactly the figures of the uninterrupted run.
    BOOST_REQUIRE(!rest.epochs.empty());
    const auto& last = rest.epochs.back();
    BOOST_TEST(last.epoch == 3);
    BOOST_TEST(last.train_loss == full.epochs.back().train_loss);
    BOOST_TEST(last.train_accuracy == full.epochs.back().train_accuracy);
  }
}

BOOST_AUTO_TEST_CASE(resume_keeps_reduce_on_plateau_state) {
  // Every epoch is a plateau (an improvement must cut the loss tenfold): the rate falls each epoch,
  // so a resumed run that forgot the schedule's state would train at another rate.
  constexpr auto plateau_plan = training_plan{
      .optimizer = sgd{.lr = 0.05, .momentum = 0.9},
      .lr =
          reduce_on_plateau{
              .gamma = 0.5, .patience = 0, .threshold = 0.9, .metric = monitor::train_loss},
      .batch = 16,
      .seed = 3};
  using plateau_t = kiln::trainer<mlp, plateau_plan>;
  kiln::test::temp_dir dir;
  auto o = options(dir);
  o.epochs = 4;
  plateau_t whole;
  whole.fit(data(), nullptr, o);
  BOOST_TEST(whole.current_lr() < 0.05 * 0.5 * 0.5);  // the schedule did act

  plateau_t first;
  o.max_steps = 30;  // mid third epoch, after two plateaus
  BOOST_TEST(first.fit(data(), nullptr, o).stopped);
  BOOST_TEST(rt::read_safetensors(o.checkpoint).metadata.count("kiln.schedule.count") == 1u);
  plateau_t second;
  o.max_steps = 0;
  o.resume = o.checkpoint;
  second.fit(data(), nullptr, o);
  BOOST_TEST(bitwise_equal(all_tensors(second), all_tensors(whole)));
  BOOST_TEST(second.current_lr() == whole.current_lr());
}

BOOST_AUTO_TEST_CASE(checkpoints_hold_everything_and_pytorch_readable_names) {
  kiln::test::temp_dir dir;
  trainer_t t;
  auto o = options(dir);
  o.max_steps = 7;
  o.checkpoint_every = 3;
  t.fit(data(), nullptr, o);
  const auto f = rt::read_safetensors(o.checkpoint);
  BOOST_TEST(f.tensors.size() == 12u);  // 4 parameters + 4 momentum buffers + 4 step counts
  BOOST_TEST(f.find("fc1.weight.momentum_buffer") != nullptr);
  BOOST_REQUIRE(f.find("fc1.weight.step") != nullptr);  // a scalar, like PyTorch's state["step"]
  BOOST_TEST(f.find("fc1.weight.step")->shape.empty());
  BOOST_TEST(f.find("fc1.weight.step")->values[0] == 7.0f);
  BOOST_TEST(f.metadata.at("kiln.steps") == "7");
  BOOST_TEST(f.metadata.at("kiln.batch_in_epoch") == "7");
  BOOST_TEST(f.metadata.at("kiln.fingerprint") == t.fingerprint());
  BOOST_TEST(rt::is_checkpoint(f.metadata));
}

BOOST_AUTO_TEST_CASE(checkpoints_refuse_what_they_cannot_continue) {
  kiln::test::temp_dir dir;
  trainer_t t;
  auto o = options(dir);
  o.max_steps = 4;
  t.fit(data(), nullptr, o);
  const auto path = o.checkpoint.string();

  kiln::trainer<mlp, other_plan> other;
  const auto before = all_tensors(other);
  expect_error<file_error>([&] { rt::load_checkpoint(o.checkpoint, other); }, path,
                           "written for another model or plan");
  BOOST_TEST(bitwise_equal(all_tensors(other), before));

  trainer_t again;
  o.resume = o.checkpoint;
  o.seed = 10;
  expect_error<config_error>([&] { again.fit(data(), nullptr, o); }, "seed",
                             "the checkpoint's run used 9, this one 10");

  // Plain weights are not a checkpoint; damaged metadata is named.
  rt::save_weights(t, dir / "w.safetensors");
  expect_error<file_error>([&] { rt::load_checkpoint(dir / "w.safetensors", again); },
                           (dir / "w.safetensors").string(), "not a kiln checkpoint");
  auto f = rt::read_safetensors(o.checkpoint);
  f.metadata["kiln.steps"] = "many";
  std::vector<rt::tensor_ref> refs;
  for (const auto& n : f.tensors) refs.push_back({n.name, n.shape, n.values});
  rt::write_safetensors(dir / "bad.safetensors", refs, f.metadata);
  expect_error<file_error>(
      [&] { rt::load_checkpoint(dir / "bad.safetensors", again); },
      (dir / "bad.safetensors").string(),
      "checkpoint metadata 'kiln.steps': 'many' is not a non-negative integer");
}

BOOST_AUTO_TEST_CASE(loader_resumes_an_epoch_with_the_same_batches_and_augmentation) {
  const auto& d = data();
  auto noise = [](float* x, int n, std::span<const int>, rt::rng& r) {
    for (int i = 0; i < n; ++i) x[i] += r.uniform();
  };
  rt::loader_options lo;
  lo.batch = 16;
  lo.seed = 5;
  lo.augment = noise;
  rt::batch_loader whole(d, lo), resumed(d, lo);
  whole.start_epoch(2);
  for (int i = 0; i < 6; ++i) whole.next();
  resumed.start_epoch(2, 6);
  while (auto a = whole.next()) {
    const auto b = resumed.next();
    BOOST_REQUIRE(b.has_value());
    BOOST_TEST(a->n == b->n);
    BOOST_TEST(std::memcmp(a->x, b->x, sizeof(float) * a->n * 12) == 0);
    BOOST_TEST(std::memcmp(a->labels, b->labels, sizeof(int) * a->n) == 0);
  }
  BOOST_TEST(!resumed.next().has_value());
  BOOST_CHECK_THROW(resumed.start_epoch(0, 14), config_error);
}
