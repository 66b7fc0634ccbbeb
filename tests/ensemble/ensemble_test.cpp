// The arithmetic of ensembles: averaged probabilities and majority vote on hand-made numbers,
// the EMA kept by the fused update against its formula, the cyclic cosine schedule, snapshot
// collection, and members trained side by side giving what training them in turn gives.
#define BOOST_TEST_MODULE ensemble
#include <boost/test/unit_test.hpp>

#include <kiln/kiln.hpp>
#include <kiln/runtime/ensemble/ensemble.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <memory>
#include <string>

#include "../support/data.hpp"

using namespace kiln::dsl;
namespace rt = kiln::rt;

namespace {

constexpr auto mlp = input<6> | dense{.units = 8, .name = "fc1"} | relu{} |
                     dense{.units = 3, .name = "head"} | softmax_cross_entropy{};
constexpr auto plain = training_plan{.optimizer = sgd{.lr = 0.1}, .epochs = 2, .batch = 16};
constexpr auto averaged = training_plan{.optimizer = sgd{.lr = 0.1, .momentum = 0.9},
                                        .batch = 16,
                                        .ensemble = ensemble{.members = 3, .ema = 0.75}};
constexpr auto snapshots = training_plan{.optimizer = sgd{.lr = 0.1},
                                         .lr = cyclic_cosine{.cycle_epochs = 2},
                                         .epochs = 6,
                                         .batch = 16,
                                         .ensemble = ensemble{.snapshots = true}};
// Fast geometric ensembling: a first cycle of 3 epochs, then 2-epoch cycles restarting at 0.25.
constexpr auto geometric =
    training_plan{.optimizer = sgd{.lr = 0.1},
                  .lr = cyclic_cosine{.cycle_epochs = 2, .first_cycle_epochs = 3, .restart = 0.25},
                  .epochs = 7,
                  .batch = 16,
                  .ensemble = ensemble{.snapshots = true}};

const rt::dataset& data() {
  static const rt::dataset d = kiln::test::synthetic_classes(96, {6}, 3);
  return d;
}

std::vector<float> copy(std::span<const float> s) { return {s.begin(), s.end()}; }

}  // namespace

BOOST_AUTO_TEST_CASE(averaging_and_voting_on_hand_made_probabilities) {
  // 3 members, 2 samples, 3 classes.
  const std::vector<float> p = {
      0.6f, 0.3f, 0.1f, /**/ 0.2f, 0.5f, 0.3f,  // member 0
      0.1f, 0.8f, 0.1f, /**/ 0.3f, 0.3f, 0.4f,  // member 1
      0.5f, 0.1f, 0.4f, /**/ 0.1f, 0.6f, 0.3f,  // member 2
  };
  const rt::combined c = rt::combine(p, 3, 2, 3);
  const std::vector<float> mean = {0.4f, 0.4f, 0.2f, 0.2f, 14 / 30.0f, 1 / 3.0f};
  // Three floats below 1 summed (2 roundings of at most 1.5) and divided (1), against the float of
  // the decimal mean, the inputs each half a rounding from their decimals: within 8u.
  using kiln::test::u;
  for (std::size_t i = 0; i < mean.size(); ++i)
    BOOST_TEST(std::abs(c.mean_probability[i] - mean[i]) <= 8 * u);
  // Sample 0: the average ties 0.4/0.4 up to rounding; votes are 2 for class 0, 1 for class 1.
  BOOST_TEST(c.vote_prediction[0] == 0);
  BOOST_TEST(c.average_prediction[1] == 1);
  BOOST_TEST(c.vote_prediction[1] == 1);  // votes 1, 2, 1 -> class 1
  // Each member's own arg-max, member by member.
  BOOST_TEST(c.member_prediction == (std::vector<int>{0, 1, 1, 2, 0, 1}),
             boost::test_tools::per_element());
  // A vote tie (one vote each) goes to the higher average probability.
  const std::vector<float> tie = {0.9f, 0.1f, /**/ 0.4f, 0.6f};
  const rt::combined t = rt::combine(tie, 2, 1, 2);
  BOOST_TEST(t.vote_prediction[0] == 0);  // averages 0.65 vs 0.35
  BOOST_CHECK_THROW(rt::combine(tie, 3, 1, 2), kiln::config_error);
}

BOOST_AUTO_TEST_CASE(softmax_rows_sum_to_one_and_survive_large_logits) {
  const float z[6] = {1, 2, 3, 1000, 1000, -1000};
  float p[6];
  rt::softmax_rows(z, 2, 3, p);
  // Three exps (an ulp each), their sum (2 roundings) and a division per value, against the
  // same written out here (or the test's own float sum of three, 2 roundings): within 8u.
  using kiln::test::u;
  BOOST_TEST(std::abs(p[0] + p[1] + p[2] - 1) <= 8 * u);
  BOOST_TEST(std::abs(p[2] - std::exp(1.0f) / (std::exp(-1.0f) + 1 + std::exp(1.0f))) <= 8 * u);
  BOOST_TEST(p[3] == 0.5f);
  BOOST_TEST(p[5] == 0.0f);
}

BOOST_AUTO_TEST_CASE(ema_follows_its_formula_step_by_step) {
  auto t = kiln::compile<mlp, averaged>();
  BOOST_TEST(t.info().averaged);
  BOOST_TEST(t.info().members == 3);
  auto ema = copy(t.tensor("fc1.weight"));  // the average starts at the weights
  BOOST_TEST(copy(t.tensor("fc1.weight.ema")) == ema, boost::test_tools::per_element());
  // Each step both sides round ema + 0.25·(w - ema) at most twice (a subtraction, then an FMA or
  // an exact ·0.25 and an addition): the gap grows by at most 4u of |w| + |ema| a step.
  std::vector<double> gap(ema.size(), 0.0);
  for (int step = 0; step < 4; ++step) {
    t.train_step(kiln::test::first_batch(data(), 16));
    const auto w = t.tensor("fc1.weight");
    for (std::size_t i = 0; i < ema.size(); ++i) {
      gap[i] += 4 * kiln::test::u * (std::abs(w[i]) + std::abs(ema[i]));
      ema[i] += 0.25f * (w[i] - ema[i]);
    }
    const auto kept = t.tensor("fc1.weight.ema");
    for (std::size_t i = 0; i < ema.size(); ++i)
      BOOST_TEST_REQUIRE(std::abs(kept[i] - ema[i]) <= gap[i]);
  }
  // Swapping puts the average in place of the weights, and back.
  const auto w = copy(t.tensor("head.bias")), e = copy(t.tensor("head.bias.ema"));
  BOOST_TEST(t.swap_averaged_weights());
  BOOST_TEST(copy(t.tensor("head.bias")) == e, boost::test_tools::per_element());
  t.swap_averaged_weights();
  BOOST_TEST(copy(t.tensor("head.bias")) == w, boost::test_tools::per_element());
  // A plan without EMA keeps none.
  auto p = kiln::compile<mlp, plain>();
  BOOST_TEST(!p.swap_averaged_weights());
  BOOST_TEST(!p.info().averaged);
}

BOOST_AUTO_TEST_CASE(cyclic_cosine_restarts_every_cycle) {
  const cyclic_cosine s{.cycle_epochs = 2, .floor = 0.1};
  const auto at = [&](int epoch, long step) { return s.factor({epoch, step, 10}); };
  BOOST_TEST(at(0, 0) == 1.0);
  // Closed forms in double (a cosine and a few operations): 16 roundings of 2^-53.
  constexpr double in_double = 16 * 0x1p-53;
  BOOST_TEST(std::abs(at(1, 10) - 0.55) <= in_double);  // half way: floor + (1 - floor)/2
  BOOST_TEST(at(1, 19) < 0.11);                         // the end of the cycle: near the floor
  BOOST_TEST(at(2, 20) == 1.0);                         // restart
  BOOST_TEST(std::abs(at(3, 35) - at(1, 15)) <= in_double);
}

BOOST_AUTO_TEST_CASE(a_long_first_cycle_then_short_ones_restarting_lower) {
  const cyclic_cosine s{.cycle_epochs = 2, .floor = 0.1, .first_cycle_epochs = 3, .restart = 0.5};
  const auto at = [&](int epoch, long step) { return s.factor({epoch, step, 10}); };
  constexpr double in_double = 16 * 0x1p-53;  // as above
  BOOST_TEST(at(0, 0) == 1.0);
  BOOST_TEST(std::abs(at(1, 15) - 0.55) <= in_double);  // half of the first, 3-epoch cycle
  BOOST_TEST(at(2, 29) < 0.11);                         // its end
  BOOST_TEST(std::abs(at(3, 30) - 0.5) <= in_double);   // the restart, lower
  BOOST_TEST(std::abs(at(4, 40) - 0.3) <= in_double);   // half way: floor + (0.5 - floor)/2
  BOOST_TEST(std::abs(at(5, 50) - 0.5) <= in_double);   // every later cycle restarts there
  BOOST_TEST(std::abs(at(6, 65) - at(4, 45)) <= in_double);
  // The defaults are the plain schedule: every cycle as long, each from 1.
  const cyclic_cosine plain_cycles{.cycle_epochs = 2, .floor = 0.1};
  const cyclic_cosine spelled{
      .cycle_epochs = 2, .floor = 0.1, .first_cycle_epochs = 2, .restart = 1};
  for (int e = 0; e < 6; ++e)
    BOOST_TEST(plain_cycles.factor({e, 10L * e + 3, 10}) == spelled.factor({e, 10L * e + 3, 10}));
}

BOOST_AUTO_TEST_CASE(snapshots_end_the_first_cycle_and_every_later_one) {
  auto g = kiln::compile<mlp, geometric>();
  BOOST_TEST(g.info().snapshot_first == 3);
  BOOST_TEST(g.info().snapshot_epochs == 2);
  std::vector<int> at;
  for (int e = 1; e <= 9; ++e)
    if (rt::ends_snapshot_cycle(g.info(), e)) at.push_back(e);
  BOOST_TEST(at == (std::vector<int>{3, 5, 7, 9}), boost::test_tools::per_element());
  // A plan without snapshots keeps none.
  auto p = kiln::compile<mlp, plain>();
  for (int e = 1; e <= 4; ++e) BOOST_TEST(!rt::ends_snapshot_cycle(p.info(), e));
}

BOOST_AUTO_TEST_CASE(snapshots_are_taken_at_the_end_of_each_cycle) {
  auto t = kiln::compile<mlp, snapshots>();
  BOOST_TEST(t.info().snapshot_epochs == 2);
  std::vector<rt::tensor_file> kept;
  rt::fit_options o;
  o.epochs = 6;
  o.batch = 16;
  o.progress = false;
  o.on_epoch_end = [&](const rt::epoch_record& r, rt::model& m) {
    if (rt::ends_snapshot_cycle(m.info(), r.epoch)) kept.push_back(rt::snapshot(m));
  };
  t.fit(data(), nullptr, o);
  BOOST_REQUIRE(kept.size() == 3u);
  BOOST_TEST(kept.back().find("fc1.weight")->values == copy(t.tensor("fc1.weight")),
             boost::test_tools::per_element());
  const rt::ensemble_result r = rt::evaluate_snapshots(t, kept, data(), 32);
  BOOST_TEST(r.member_accuracy.size() == 3u);
  BOOST_TEST(r.accuracy > 0.5);
}

BOOST_AUTO_TEST_CASE(members_side_by_side_equal_members_in_turn) {
  std::vector<std::unique_ptr<kiln::trainer<mlp, plain>>> a, b;
  std::vector<rt::model*> pa, pb;
  for (int k = 0; k < 3; ++k) {
    const kiln::trainer_options o{.seed = std::uint64_t(k), .seed_set = true};
    a.push_back(std::make_unique<kiln::trainer<mlp, plain>>(o));
    b.push_back(std::make_unique<kiln::trainer<mlp, plain>>(o));
    pa.push_back(a.back().get());
    pb.push_back(b.back().get());
  }
  rt::fit_options o;
  o.epochs = 2;
  o.batch = 16;
  o.progress = false;
  rt::fit_members(pa, data(), nullptr, o, 1);
  rt::fit_members(pb, data(), nullptr, o, 2);
  for (int k = 0; k < 3; ++k) {
    const auto x = a[k]->parameters(), y = b[k]->parameters();
    BOOST_TEST(std::memcmp(x.data(), y.data(), x.size_bytes()) == 0);
  }
  BOOST_TEST(std::memcmp(a[0]->parameters().data(), a[1]->parameters().data(),
                         a[0]->parameters().size_bytes()) != 0);  // different seeds
  // Identical members: the ensemble is the member.
  const rt::ensemble_result same =
      rt::evaluate_ensemble(std::vector<rt::model*>{pa[0], pb[0]}, data(), 32);
  BOOST_TEST(same.accuracy == same.member_accuracy[0]);
  BOOST_TEST(same.vote_accuracy == same.member_accuracy[0]);
  BOOST_TEST(same.unanimous == 1.0);
  BOOST_TEST(same.any_member_accuracy == same.member_accuracy[0]);
  BOOST_TEST(same.right_by.size() == 3u);  // identical members: all right or all wrong
  BOOST_TEST(same.right_by[1] == 0.0);
  BOOST_TEST(same.right_by[2] == same.member_accuracy[0]);

  // Three different members: how often they agree, and how often one of them is right, counted
  // here from each member's own logits (the arg-max of the logits is that of the probabilities).
  const rt::dataset& d = data();
  const int n = int(d.size()), classes = 3;
  const std::size_t sample = d.sample_size();
  std::vector<float> logits(16 * classes);
  std::vector<std::vector<int>> predicted(3);
  for (int k = 0; k < 3; ++k)
    for (int first = 0; first < n; first += 16) {  // the trainers' batch
      const int count = std::min(16, n - first);
      pa[k]->eval_step({count, d.x.data() + first * sample, d.labels.data() + first, nullptr},
                       logits.data());
      for (int i = 0; i < count; ++i) {
        const float* z = logits.data() + std::size_t(i) * classes;
        predicted[k].push_back(int(std::max_element(z, z + classes) - z));
      }
    }
  int unanimous = 0, any_right = 0, right_by[4] = {};
  for (int i = 0; i < n; ++i) {
    unanimous += predicted[0][i] == predicted[1][i] && predicted[1][i] == predicted[2][i];
    any_right += predicted[0][i] == d.labels[i] || predicted[1][i] == d.labels[i] ||
                 predicted[2][i] == d.labels[i];
    ++right_by[(predicted[0][i] == d.labels[i]) + (predicted[1][i] == d.labels[i]) +
               (predicted[2][i] == d.labels[i])];
  }
  const rt::ensemble_result r = rt::evaluate_ensemble(pa, d, 32);
  BOOST_TEST(r.unanimous == double(unanimous) / n);
  BOOST_TEST(r.any_member_accuracy == double(any_right) / n);
  BOOST_TEST_REQUIRE(r.right_by.size() == 4u);
  for (int k = 0; k <= 3; ++k) BOOST_TEST(r.right_by[k] == double(right_by[k]) / n);
  // The mean member from the shares, Σ k·share / K: the same counts summed in another order,
  // each side a few roundings of doubles at most 1 (4 ulps each at most).
  const double mean = (r.right_by[1] + 2 * r.right_by[2] + 3 * r.right_by[3]) / 3;
  BOOST_TEST(std::abs(mean - r.mean_member_accuracy) <= 8 * std::numeric_limits<double>::epsilon());
  std::string printed;
  for (int k = 0; k <= 3; ++k) {
    char share[16];
    std::snprintf(share, sizeof share, "%s%.4f", k ? "," : "", double(right_by[k]) / n);
    printed += share;
  }
  BOOST_TEST(rt::members_right(r) == printed);
  BOOST_TEST(unanimous < n);  // two epochs from three seeds leave some disagreement to count
  for (const double a : r.member_accuracy) BOOST_TEST(r.any_member_accuracy >= a);
  BOOST_TEST(r.any_member_accuracy >= r.vote_accuracy);  // a vote picks some member's class
}
