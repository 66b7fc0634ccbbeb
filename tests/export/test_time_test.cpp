// test_time{.hflip} and label smoothing through predict and the exported graph. Flip averaging
// is part of what the model answers (evaluation, predict, ONNX: the graph mirrors the batch,
// runs both halves as one batch and averages them); label smoothing only changes the training
// loss, so the graph has nothing of it.
#include <boost/test/unit_test.hpp>

#include <kiln/kiln.hpp>

#include "../support/onnx.hpp"
#include "../support/rounding_walk.hpp"

using namespace kiln;
using namespace kiln::dsl;
using namespace kiln::test;

namespace {

constexpr auto small_cnn = input<1, 28, 28> | conv2d{.filters = 8, .kernel = 3, .pad = 1} |
                           batch_norm{} | relu{} | max_pool{.size = 2} | flatten{} |
                           dense{.units = 10, .name = "head"} |
                           softmax_cross_entropy{.label_smoothing = 0.1};
constexpr auto plan = training_plan{.optimizer = sgd{.lr = 0.05, .momentum = 0.9},
                                    .augment = hflip{},
                                    .batch = 64,
                                    .test_time = {.hflip = true}};

// Images [n, 1, 28, 28] mirrored left–right.
std::vector<float> mirrored(const std::vector<float>& x) {
  std::vector<float> m(x.size());
  for (std::size_t r = 0; r < x.size() / 28; ++r)
    for (std::size_t c = 0; c < 28; ++c) m[r * 28 + c] = x[r * 28 + 27 - c];
  return m;
}

// 6σ of the rounding walk (tests/support/rounding_walk.hpp) of each of the n images' logits:
// the network on the image and on its mirror, then their mean (an add and a halving: one
// rounding of the sum, exact halving).
template <class M>
std::vector<double> six_sigma(M& m, const std::vector<float>& x, std::size_t n) {
  const std::vector<float> flipped = mirrored(x);
  auto pass = [&](const std::vector<float>& images, std::size_t s) {
    walk v{
        std::vector<double>(images.begin() + long(s * 784), images.begin() + long(s * 784 + 784)),
        std::vector<double>(784, 0.0)};
    v = conv_walk(m.tensor("0.weight"), m.tensor("0.bias"), v, 1, 28);
    v = max_pool_walk(relu_walk(batch_norm_walk(m, "1", v, 8, 1e-5)), 8, 28);
    return dense_walk(m.tensor("head.weight"), m.tensor("head.bias"), v.first, v.second, false);
  };
  std::vector<double> bounds;
  for (std::size_t s = 0; s < n; ++s) {
    const walk a = pass(x, s), b = pass(flipped, s);
    for (std::size_t c = 0; c < a.first.size(); ++c)
      bounds.push_back(6 * std::sqrt((a.second[c] + b.second[c]) / 4 +
                                     rounding_variance(std::abs(a.first[c] + b.first[c]) / 2, 0)));
  }
  return bounds;
}

}  // namespace

BOOST_AUTO_TEST_CASE(flip_averaging_is_in_predict_and_in_the_graph) {
  auto m = compile<small_cnn, plan>();
  train_a_little(m, 40);
  const std::vector<float> x = test_images(150);  // two whole batches of 64 and a part
  const std::vector<float> logits = m.predict(x);

  // predict is the mean of the network's two passes, bit for bit (test_time.hpp's product with
  // 0.5), batch by batch, and so gives an image and its mirror the same logits.
  for (std::size_t first = 0; first < 150; first += 64) {
    const int n = int(std::min<std::size_t>(64, 150 - first));
    const std::vector<float> part(x.begin() + long(first * 784),
                                  x.begin() + long((first + std::size_t(n)) * 784));
    const auto a = m.outputs({n, part.data(), nullptr, nullptr}, false);
    const std::vector<float> z(a.begin(), a.end());
    const std::vector<float> mirror = mirrored(part);
    const auto b = m.outputs({n, mirror.data(), nullptr, nullptr}, false);
    for (std::size_t i = 0; i < z.size(); ++i)
      BOOST_TEST(logits[first * 10 + i] == (z[i] + b[i]) * 0.5f);
    // The network alone is not symmetric: a graph without the mirror would miss predict by more
    // than 1e-2, orders of magnitude beyond the roundings the bounds below allow for (what makes
    // the comparison below a test of the averaging).
    BOOST_TEST(max_difference(z, {logits.begin() + long(first * 10),
                                  logits.begin() + long((first + std::size_t(n)) * 10)}) > 1e-2);
  }
  BOOST_TEST(m.predict(mirrored(x)) == logits, boost::test_tools::per_element());

  // ONNX Runtime on the graph: predict's logits within 6σ of their rounding walk.
  exported_equals_kiln(m, {}, x, logits, "test_time", six_sigma(m, x, 150));
  // The graph keeps no trace of the loss: its weights import back into the same trainer.
  auto back = compile<small_cnn, plan>({.seed = 99, .seed_set = true});
  BOOST_TEST(rt::load_trained(back, "test_time.onnx").empty());
  BOOST_TEST(back.predict(x) == logits, boost::test_tools::per_element());
}

// Evaluation (fit's test pass, evaluate) reports the accuracy of exactly predict's logits.
BOOST_AUTO_TEST_CASE(evaluation_scores_are_predicts) {
  auto m = compile<small_cnn, plan>();
  train_a_little(m, 20);
  const std::vector<float> x = test_images(200);
  const auto predicted = rt::arg_max_rows(m.predict(x), 10);
  long correct = 0;
  for (std::size_t i = 0; i < predicted.size(); ++i)
    correct += predicted[i] == fashion().test.labels[i];
  rt::dataset part = fashion().test;
  part.x = x;
  part.labels.resize(200);
  BOOST_TEST(rt::evaluate(m, part, 64).accuracy == double(correct) / 200);
}
