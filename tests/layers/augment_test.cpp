// Data augmentation: each step's effect, determinism given the seed (through the batch loader,
// in its thread), and the plan's pipeline as the trainer hands it to the runtime.
#define BOOST_TEST_MODULE layers_augment
#include <boost/test/unit_test.hpp>

#include <kiln/kiln.hpp>
#include <kiln/runtime/data/loader.hpp>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include "../support/rounding.hpp"

using namespace kiln;
using namespace kiln::dsl;
using step = rt::augment_step;

namespace {

// One 1×4×5 image with distinct values 1..20 (row-major).
std::vector<float> ramp() {
  std::vector<float> v(20);
  std::iota(v.begin(), v.end(), 1.0f);
  return v;
}
const std::vector<int> shape = {1, 4, 5};

std::vector<float> run(const rt::augment_plan& plan, std::vector<float> x, std::uint64_t seed = 1) {
  rt::augmenter a(plan);
  rt::rng r(seed);
  a(x.data(), int(x.size() / 20), shape, r);
  return x;
}

rt::dataset images(int n) {
  rt::dataset d;
  d.sample_shape = {1, 6, 6};
  d.classes = 2;
  d.x.resize(std::size_t(n) * 36);
  for (std::size_t i = 0; i < d.x.size(); ++i) d.x[i] = float(i % 37) / 37.0f;
  for (int i = 0; i < n; ++i) d.labels.push_back(i % 2);
  return d;
}

// Every batch of one epoch, flattened.
std::vector<float> epoch(const rt::dataset& d, const rt::augment_plan& plan, std::uint64_t seed,
                         int e) {
  rt::loader_options o;
  o.batch = 8;
  o.seed = seed;
  o.augment = rt::augmenter(plan);
  rt::batch_loader loader(d, o);
  loader.start_epoch(e);
  std::vector<float> all;
  while (auto b = loader.next()) all.insert(all.end(), b->x, b->x + b->n * 36);
  return all;
}

}  // namespace

BOOST_AUTO_TEST_CASE(flip_reverses_each_row) {
  const auto out = run({{.what = step::op::flip, .p = 1}}, ramp());
  for (int y = 0; y < 4; ++y)
    for (int x = 0; x < 5; ++x) BOOST_TEST(out[y * 5 + x] == float(y * 5 + (4 - x) + 1));
  BOOST_TEST(run({{.what = step::op::flip, .p = 0}}, ramp()) == ramp());
}

BOOST_AUTO_TEST_CASE(crop_shifts_within_the_padding_and_fills_zeros) {
  for (std::uint64_t seed = 0; seed < 20; ++seed) {
    const auto out = run({{.what = step::op::crop, .pixels = 2}}, ramp(), seed);
    // Some shift (dy, dx) in [-2, 2]² explains every value: in[y - dy][x - dx] or 0 outside.
    bool explained = false;
    for (int dy = -2; dy <= 2 && !explained; ++dy)
      for (int dx = -2; dx <= 2 && !explained; ++dx) {
        bool all = true;
        for (int y = 0; y < 4; ++y)
          for (int x = 0; x < 5; ++x) {
            const int sy = y - dy, sx = x - dx;
            const float want = sy >= 0 && sy < 4 && sx >= 0 && sx < 5 ? float(sy * 5 + sx + 1) : 0;
            all = all && out[y * 5 + x] == want;
          }
        explained = all;
      }
    BOOST_TEST(explained);
  }
}

BOOST_AUTO_TEST_CASE(translate_replicates_the_border) {
  for (std::uint64_t seed = 0; seed < 20; ++seed) {
    const auto out = run({{.what = step::op::translate, .pixels = 1}}, ramp(), seed);
    bool explained = false;
    for (int dy = -1; dy <= 1 && !explained; ++dy)
      for (int dx = -1; dx <= 1 && !explained; ++dx) {
        bool all = true;
        for (int y = 0; y < 4; ++y)
          for (int x = 0; x < 5; ++x) {
            const int sy = std::clamp(y - dy, 0, 3), sx = std::clamp(x - dx, 0, 4);
            all = all && out[y * 5 + x] == float(sy * 5 + sx + 1);
          }
        explained = all;
      }
    BOOST_TEST(explained);
  }
}

BOOST_AUTO_TEST_CASE(jitter_scales_brightness_and_contrast_within_range) {
  std::vector<float> x(20);
  for (int i = 0; i < 20; ++i) x[i] = 0.2f + 0.02f * i;  // in [0.2, 0.58]: no clamping
  for (std::uint64_t seed = 0; seed < 20; ++seed) {
    const auto b = run({{.what = step::op::jitter, .brightness = 0.3}}, x, seed);
    const float k = b[0] / x[0];
    BOOST_TEST((k >= 0.7f && k <= 1.3f));
    // b[i] = fl(x[i]·β) (one rounding); k = fl(b[0]/x[0]) holds two more of β and x[i]·k one:
    // 4u of b[i] apart at most.
    for (int i = 0; i < 20; ++i) BOOST_TEST(std::abs(b[i] - x[i] * k) <= 4 * kiln::test::u * b[i]);
    const auto c = run({{.what = step::op::jitter, .contrast = 0.5}}, x, seed);
    const float mean = std::accumulate(x.begin(), x.end(), 0.0f) / 20;
    const float s = (c[19] - c[0]) / (x[19] - x[0]);
    BOOST_TEST((s >= 0.5f && s <= 1.5f));
    // The kernel keeps the mean exactly but for rounding each output to float (u of |c|); the
    // test's two float means of 20 terms add sum_error(20) of Σ|c|/20 and of Σ|x|/20, and a
    // rounding each (u).
    const float mean_c = std::accumulate(c.begin(), c.end(), 0.0f) / 20;
    const double magnitude = std::max(*std::max_element(c.begin(), c.end()), x.back());
    BOOST_TEST(std::abs(mean_c - mean) <=
               (2 * kiln::test::sum_error(20) + 3 * kiln::test::u) * magnitude);
  }
}

BOOST_AUTO_TEST_CASE(batches_are_deterministic_given_the_seed) {
  const auto d = images(40);
  const rt::augment_plan plan = {{.what = step::op::crop, .pixels = 2},
                                 {.what = step::op::flip},
                                 {.what = step::op::jitter, .brightness = 0.2, .contrast = 0.2}};
  const auto a = epoch(d, plan, 3, 0);
  BOOST_TEST(a == epoch(d, plan, 3, 0));  // same seed, same epoch: the same batches
  BOOST_TEST(a != epoch(d, plan, 4, 0));  // another seed
  BOOST_TEST(a != epoch(d, plan, 3, 1));  // another epoch
  BOOST_TEST(a != epoch(d, {}, 3, 0));    // augmentation changed something
}

BOOST_AUTO_TEST_CASE(flat_samples_are_refused_when_the_batch_arrives) {
  rt::augmenter a({{.what = step::op::flip}});
  rt::rng r(0);
  std::vector<float> x(6);
  const std::vector<int> flat = {6};
  BOOST_CHECK_THROW(a(x.data(), 1, flat, r), config_error);
}

BOOST_AUTO_TEST_CASE(the_plan_reaches_the_runtime_in_order) {
  constexpr auto model = input<1, 6, 6> | flatten{} | dense{.units = 2} | softmax_cross_entropy{};
  constexpr auto plan =
      training_plan{.optimizer = sgd{.lr = 0.1},
                    .augment = random_crop{.pad = 3} | hflip{.p = 0.25} | translate{.pixels = 1} |
                               color_jitter{.brightness = 0.1, .contrast = 0.3}};
  const auto steps = kiln::compile<model, plan>().augmentation();
  BOOST_REQUIRE_EQUAL(steps.size(), 4u);
  BOOST_TEST((steps[0].what == step::op::crop && steps[0].pixels == 3));
  BOOST_TEST((steps[1].what == step::op::flip && steps[1].p == 0.25));
  BOOST_TEST((steps[2].what == step::op::translate && steps[2].pixels == 1));
  BOOST_TEST((steps[3].what == step::op::jitter && steps[3].brightness == 0.1 &&
              steps[3].contrast == 0.3));
  constexpr auto single = training_plan{.optimizer = sgd{.lr = 0.1}, .augment = hflip{}};
  const auto one = kiln::compile<model, single>().augmentation();
  BOOST_TEST(one.size() == 1u);
  constexpr auto none = training_plan{.optimizer = sgd{.lr = 0.1}};
  const auto nothing = kiln::compile<model, none>().augmentation();
  BOOST_TEST(nothing.empty());
}
