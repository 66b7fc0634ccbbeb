// Frozen layers stay bitwise unchanged while the rest learns; a learning-rate multiplier scales
// a layer's update exactly; feature extraction equals the forward pass; weights move between
// trainers with a replaced head; class selection and per-class subsets.
#define BOOST_TEST_MODULE transfer
#include <boost/test/unit_test.hpp>

#include <kiln/kiln.hpp>

#include <cstring>

#include "../support/data.hpp"

using namespace kiln::dsl;
namespace rt = kiln::rt;

namespace {

constexpr auto mlp = input<6> | dense{.units = 8, .name = "fc1"} | relu{} |
                     dense{.units = 8, .name = "fc2"} | relu{} | dense{.units = 3, .name = "head"} |
                     softmax_cross_entropy{};
constexpr auto plan =
    training_plan{.optimizer = sgd{.lr = 0.1}, .regularizer = l2{1e-3}, .batch = 16};
constexpr auto momentum = training_plan{.optimizer = sgd{.lr = 0.1, .momentum = 0.9}, .batch = 16};
constexpr auto head5 = input<6> | dense{.units = 8, .name = "fc1"} | relu{} |
                       dense{.units = 8, .name = "fc2"} | relu{} |
                       dense{.units = 5, .name = "head"} | softmax_cross_entropy{};

const rt::dataset& data() {
  static const rt::dataset d = kiln::test::synthetic_classes(64, {6}, 3);
  return d;
}

std::vector<float> copy(std::span<const float> s) { return {s.begin(), s.end()}; }

bool same(std::span<const float> a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size_bytes()) == 0;
}

template <class T>
void train(T& t, int steps) {
  for (int i = 0; i < steps; ++i) t.train_step(kiln::test::first_batch(data(), 16));
}

}  // namespace

BOOST_AUTO_TEST_CASE(frozen_layers_stay_bitwise_unchanged) {
  auto t = kiln::compile<mlp, plan>({.layers = {{.from = "fc1", .to = "fc2", .frozen = true}}});
  BOOST_TEST(t.frozen("fc1"));
  BOOST_TEST(t.frozen("2"));  // fc2 by position (fc1 is 0)
  BOOST_TEST(!t.frozen("head"));
  const auto w1 = copy(t.tensor("fc1.weight")), b2 = copy(t.tensor("fc2.bias"));
  const auto head = copy(t.tensor("head.weight"));
  train(t, 20);
  BOOST_TEST(same(t.tensor("fc1.weight"), w1));
  BOOST_TEST(same(t.tensor("fc2.bias"), b2));  // no update, no weight decay
  BOOST_TEST(!same(t.tensor("head.weight"), head));

  // Unfreezing later: the body trains again.
  t.configure({.from = "fc1", .to = "fc2"});
  train(t, 1);
  BOOST_TEST(!same(t.tensor("fc1.weight"), w1));
}

BOOST_AUTO_TEST_CASE(freezing_a_middle_layer_still_trains_the_layers_before_it) {
  auto t = kiln::compile<mlp, plan>();
  t.freeze("fc2");
  const auto w1 = copy(t.tensor("fc1.weight")), w2 = copy(t.tensor("fc2.weight"));
  train(t, 5);
  BOOST_TEST(same(t.tensor("fc2.weight"), w2));
  BOOST_TEST(!same(t.tensor("fc1.weight"), w1));
}

BOOST_AUTO_TEST_CASE(a_frozen_body_gives_the_head_the_same_gradients) {
  // Skipping the body's backward pass must not change what the head learns.
  auto frozen =
      kiln::compile<mlp, plan>({.layers = {{.from = "fc1", .to = "fc2", .frozen = true}}});
  auto free = kiln::compile<mlp, plan>();
  frozen.gradient(kiln::test::first_batch(data(), 16));
  free.gradient(kiln::test::first_batch(data(), 16));
  const auto& ts = free.tensors();
  for (std::size_t i = 4; i < 6; ++i) {  // head.weight, head.bias
    const auto offset = ts[i].data.data() - free.parameters().data();
    BOOST_TEST(std::memcmp(frozen.gradients().data() + offset, free.gradients().data() + offset,
                           ts[i].data.size_bytes()) == 0);
  }
}

BOOST_AUTO_TEST_CASE(lr_multiplier_scales_the_step_exactly) {
  // Plain SGD: p' = p - lr·mult·g. With mult = 0.25 the change is a quarter of the full one.
  auto full = kiln::compile<mlp, momentum>();
  auto quarter = kiln::compile<mlp, momentum>({.layers = {{.from = "fc1", .lr_mult = 0.25}}});
  BOOST_TEST(quarter.lr_mult("fc1") == 0.25);
  BOOST_TEST(quarter.lr_mult("fc2") == 1.0);
  const auto before = copy(full.tensor("fc1.weight"));
  full.train_step(kiln::test::first_batch(data(), 16));
  quarter.train_step(kiln::test::first_batch(data(), 16));
  const auto a = full.tensor("fc1.weight"), b = quarter.tensor("fc1.weight");
  // lr·0.25 and 0.25·full_step scale exactly (a power of two), and p' - p is exact (Sterbenz):
  // the steps differ only by the rounding of each new weight, u of |p'| each.
  for (std::size_t i = 0; i < a.size(); ++i) {
    const float full_step = a[i] - before[i], quarter_step = b[i] - before[i];
    BOOST_TEST(std::abs(quarter_step - 0.25f * full_step) <=
               kiln::test::u * (std::abs(b[i]) + 0.25f * std::abs(a[i])));
  }
  BOOST_TEST(same(quarter.tensor("fc2.weight"), copy(full.tensor("fc2.weight"))));
}

BOOST_AUTO_TEST_CASE(bad_layer_options_are_refused) {
  auto t = kiln::compile<mlp, plan>();
  BOOST_CHECK_THROW(t.freeze("fc9"), kiln::config_error);
  BOOST_CHECK_THROW(t.freeze("head", "fc1"), kiln::config_error);
  BOOST_CHECK_THROW(t.configure({.from = "fc1", .lr_mult = -1}), kiln::config_error);
}

BOOST_AUTO_TEST_CASE(features_are_the_forward_pass_up_to_a_layer) {
  auto t = kiln::compile<mlp, plan>();
  const rt::dataset f = kiln::extract_features(t, data(), "fc2");
  BOOST_TEST(f.sample_shape == std::vector<int>({8}), boost::test_tools::per_element());
  BOOST_TEST(f.size() == data().size());
  BOOST_TEST(f.labels == data().labels, boost::test_tools::per_element());
  // By hand: relu(x·W1ᵀ + b1)·W2ᵀ + b2 for the first sample.
  const auto w1 = t.tensor("fc1.weight"), b1 = t.tensor("fc1.bias");
  const auto w2 = t.tensor("fc2.weight"), b2 = t.tensor("fc2.bias");
  // The trainer's GEMMs add the same terms in another order: two_orders(7) of the first layer's
  // magnitudes (ReLU passes a difference on, or less), then two_orders(9) of the second's plus
  // the first's differences through |W2|.
  using kiln::test::two_orders;
  float h[8];
  double dh[8];
  for (int j = 0; j < 8; ++j) {
    float s = b1[j];
    double magnitude = std::abs(b1[j]);
    for (int k = 0; k < 6; ++k) {
      s += w1[j * 6 + k] * data().x[k];
      magnitude += std::abs(w1[j * 6 + k] * data().x[k]);
    }
    h[j] = std::max(s, 0.0f);
    dh[j] = two_orders(7) * magnitude;
  }
  for (int j = 0; j < 8; ++j) {
    float s = b2[j];
    double magnitude = std::abs(b2[j]), carried = 0;
    for (int k = 0; k < 8; ++k) {
      s += w2[j * 8 + k] * h[k];
      magnitude += std::abs(w2[j * 8 + k] * h[k]);
      carried += std::abs(w2[j * 8 + k]) * dh[k];
    }
    BOOST_TEST(std::abs(f.x[j] - s) <= two_orders(9) * magnitude + carried);
  }
}

BOOST_AUTO_TEST_CASE(weights_transfer_with_a_replaced_head) {
  auto source = kiln::compile<mlp, plan>({.seed = 1, .seed_set = true});
  train(source, 3);
  auto target = kiln::compile<head5, plan>({.seed = 2, .seed_set = true});
  const auto fresh_head = copy(target.tensor("head.weight"));
  const auto report = kiln::transfer_weights(source, target, {"head"});
  BOOST_TEST(report.loaded.size() == 4u);
  BOOST_TEST(same(target.tensor("fc1.weight"), copy(source.tensor("fc1.weight"))));
  BOOST_TEST(same(target.tensor("head.weight"), fresh_head));
  BOOST_TEST(target.tensor("head.weight").size() == 40u);
  // Without keeping the head, its shape (3 vs 5 classes) is refused, naming both.
  BOOST_CHECK_THROW(kiln::transfer_weights(source, target), kiln::file_error);
}

BOOST_AUTO_TEST_CASE(class_selection_and_per_class_subsets) {
  rt::dataset d;
  d.sample_shape = {1};
  d.classes = 4;
  for (int i = 0; i < 40; ++i) d.x.push_back(float(i)), d.labels.push_back(i % 4);
  const rt::dataset two = rt::select_classes(d, {3, 1});
  BOOST_TEST(two.classes == 2);
  BOOST_TEST(two.size() == 20u);
  BOOST_TEST(two.x[0] == 1.0f);    // the first sample of class 1...
  BOOST_TEST(two.labels[0] == 1);  // ...is now class 1 (position of 1 in {3, 1})
  BOOST_TEST(two.labels[1] == 0);  // class 3 -> 0
  const rt::dataset few = rt::take_per_class(d, 3, 7);
  BOOST_TEST(few.size() == 12u);
  std::vector<int> counts(4);
  for (int l : few.labels) ++counts[l];
  BOOST_TEST(counts == std::vector<int>({3, 3, 3, 3}), boost::test_tools::per_element());
  BOOST_TEST(rt::take_per_class(d, 3, 7).x == few.x, boost::test_tools::per_element());
  BOOST_CHECK_THROW(rt::select_classes(d, {4}), kiln::config_error);
}
