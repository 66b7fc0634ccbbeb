// test_time{.hflip = true}: evaluation averages the logits of each image and of its mirror
// image. Exact properties, checked bit for bit: the mirror, the mean of the two passes, the
// symmetry between an image and its mirror, an image equal to its mirror, the loss and accuracy
// built on the mean, and training left untouched.
#define BOOST_TEST_MODULE layers_flip_average
#include <boost/test/unit_test.hpp>

#include <kiln/codegen/test_time.hpp>
#include <kiln/kiln.hpp>

#include <cstring>
#include <vector>

#include "../support/data.hpp"

using namespace kiln::dsl;
namespace rt = kiln::rt;

namespace {

constexpr int n = 8, C = 2, H = 5, W = 7, K = 3;

// Batch norm and dropout are in the model so that evaluation mode matters (running statistics,
// no masks); the convolution is not symmetric, so mirrored images give other logits.
constexpr auto model = input<C, H, W> | conv2d{.filters = 4, .kernel = 3, .pad = 1} | batch_norm{} |
                       relu{} | max_pool{.size = 2} | flatten{} | dense{.units = 8} |
                       dropout{.p = 0.5} | dense{.units = K} | softmax_cross_entropy{};
constexpr auto flipping = training_plan{.optimizer = sgd{.lr = 0.05, .momentum = 0.9},
                                        .augment = hflip{},
                                        .batch = n,
                                        .test_time = {.hflip = true}};
constexpr auto plain =
    training_plan{.optimizer = sgd{.lr = 0.05, .momentum = 0.9}, .augment = hflip{}, .batch = n};

const rt::dataset data = kiln::test::synthetic_classes(n, {C, H, W}, K);

std::vector<float> mirrored(const std::vector<float>& x) {
  std::vector<float> m(x.size());
  for (std::size_t r = 0; r < x.size() / W; ++r)
    for (int c = 0; c < W; ++c) m[r * W + std::size_t(c)] = x[r * W + std::size_t(W - 1 - c)];
  return m;
}

template <class T>
std::vector<float> eval_logits(T& t, const std::vector<float>& x) {
  std::vector<float> z(std::size_t(n) * K);
  t.eval_step({n, x.data(), data.labels.data(), nullptr}, z.data());
  return z;
}
template <class T>
std::vector<float> network(T& t, const std::vector<float>& x) {
  const auto z = t.outputs({n, x.data(), data.labels.data(), nullptr}, false);
  return {z.begin(), z.end()};
}

// A trained trainer (a few steps: batch-norm statistics and weights away from their start).
template <auto Plan>
auto trained() {
  auto t = kiln::compile<model, Plan>();
  const rt::batch b{n, data.x.data(), data.labels.data(), nullptr};
  for (int s = 0; s < 5; ++s) t.train_step(b);
  return t;
}

}  // namespace

BOOST_AUTO_TEST_CASE(mirror_reverses_each_row) {
  std::vector<float> x(2 * 3), y(x.size()), back(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = float(i);
  kiln::codegen::mirror_rows(x.data(), y.data(), 2, 3);
  BOOST_TEST(y == (std::vector<float>{2, 1, 0, 5, 4, 3}));
  kiln::codegen::mirror_rows(y.data(), back.data(), 2, 3);
  BOOST_TEST(back == x);
}

// The evaluation's logits are (z(x) + z(mirror x)) · 0.5 of the network's own evaluation-mode
// logits, bit for bit; and they differ from either pass (the test would pass vacuously if the
// network were symmetric).
BOOST_AUTO_TEST_CASE(eval_logits_are_the_mean_of_both_orientations) {
  auto t = trained<flipping>();
  const auto a = network(t, data.x), b = network(t, mirrored(data.x));
  const auto z = eval_logits(t, data.x);
  BOOST_TEST(a != b);
  for (std::size_t i = 0; i < z.size(); ++i) BOOST_TEST(z[i] == (a[i] + b[i]) * 0.5f);
}

// a + b = b + a in IEEE arithmetic: an image and its mirror image get the same logits.
BOOST_AUTO_TEST_CASE(an_image_and_its_mirror_evaluate_alike) {
  auto t = trained<flipping>();
  BOOST_TEST(eval_logits(t, data.x) == eval_logits(t, mirrored(data.x)));
}

// An image equal to its mirror keeps the network's logits: (a + a) · 0.5 = a exactly.
BOOST_AUTO_TEST_CASE(a_symmetric_image_keeps_its_logits) {
  auto t = trained<flipping>();
  auto x = data.x;
  for (std::size_t r = 0; r < x.size() / W; ++r)
    for (int c = 0; c < W / 2; ++c) x[r * W + std::size_t(W - 1 - c)] = x[r * W + std::size_t(c)];
  BOOST_TEST(eval_logits(t, x) == network(t, x));
}

// The loss and the correct count of an evaluation step are those of the averaged logits, and
// evaluate() (fit's test pass, ensembles) reports that accuracy.
BOOST_AUTO_TEST_CASE(loss_and_accuracy_are_those_of_the_mean) {
  auto t = trained<flipping>();
  std::vector<float> z(std::size_t(n) * K), p(z.size());
  const rt::step_result r = t.eval_step({n, data.x.data(), data.labels.data(), nullptr}, z.data());
  const auto expect =
      kiln::kernels::softmax_cross_entropy(z.data(), data.labels.data(), n, K, p.data());
  BOOST_TEST(r.loss_sum == expect.loss);
  BOOST_TEST(r.correct == expect.correct);
  BOOST_TEST(rt::evaluate(t, data, 3).accuracy == double(expect.correct) / n);
}

// Only evaluation changes: the same steps give the same weights and running statistics with and
// without test_time, bit for bit.
BOOST_AUTO_TEST_CASE(training_is_unchanged) {
  auto f = trained<flipping>();
  auto p = trained<plain>();
  const auto fp = f.parameters(), pp = p.parameters();
  BOOST_TEST(std::memcmp(fp.data(), pp.data(), fp.size_bytes()) == 0);
  const auto fb = f.buffers(), pb = p.buffers();
  BOOST_TEST(std::memcmp(fb.data(), pb.data(), fb.size_bytes()) == 0);
  BOOST_TEST(network(f, data.x) == network(p, data.x));
}
