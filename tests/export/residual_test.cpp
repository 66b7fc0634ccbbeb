// A residual network with stochastic depth (blocks scaled by their survival probability at test
// time, 0.75 and 0.5 here), fused conv | relu | max_pool, global pooling: exported, run by ONNX
// Runtime, and read back as weights.
#include <boost/test/unit_test.hpp>

#include <kiln/kiln.hpp>

#include "../support/allocations.hpp"
#include "../support/onnx.hpp"
#include "../support/rounding_walk.hpp"

using namespace kiln;
using namespace kiln::dsl;
using namespace kiln::test;

namespace {

constexpr auto block = chain | conv2d{.filters = 8, .kernel = 3, .pad = 1} | batch_norm{} | relu{} |
                       conv2d{.filters = 8, .kernel = 3, .pad = 1} | batch_norm{};
constexpr auto residual_net =
    input<1, 28, 28> | conv2d{.filters = 8, .kernel = 3, .pad = 1, .name = "stem"} | relu{} |
    max_pool{.size = 2} |
    residual{.body = block, .depth = stochastic_depth{.p_last = 0.5}, .name = "block1"} | relu{} |
    residual{.body = block, .depth = stochastic_depth{.p_last = 0.5}, .name = "block2"} | relu{} |
    global_avg_pool{} | dense{.units = 10, .name = "head"} | softmax_cross_entropy{};
constexpr auto plan = training_plan{.optimizer = sgd{.lr = 0.05, .momentum = 0.9}, .batch = 64};

// 6σ of the rounding walk (tests/support/rounding_walk.hpp) of each logit of the first n images:
// what another summation order (ONNX Runtime's kernels, OpenBLAS's for another row count) may
// change. The blocks survive with 0.75 and 0.5.
template <class M>
std::vector<double> six_sigma(M& m, const std::vector<float>& x, std::size_t n) {
  std::vector<double> bounds;
  for (std::size_t s = 0; s < n; ++s) {
    walk v{std::vector<double>(x.begin() + long(s * 784), x.begin() + long(s * 784 + 784)),
           std::vector<double>(784, 0.0)};
    v = max_pool_walk(
        relu_walk(conv_walk(m.tensor("stem.weight"), m.tensor("stem.bias"), v, 1, 28)), 8, 28);
    for (const auto& [block, p] : {std::pair{"block1.", 0.75}, std::pair{"block2.", 0.5}}) {
      const std::string b = block;
      walk body = conv_walk(m.tensor(b + "0.weight"), m.tensor(b + "0.bias"), v, 8, 14);
      body = relu_walk(batch_norm_walk(m, b + "1", body, 8, 1e-5));
      body = conv_walk(m.tensor(b + "3.weight"), m.tensor(b + "3.bias"), body, 8, 14);
      v = relu_walk(scaled_add_walk(v, batch_norm_walk(m, b + "4", body, 8, 1e-5), p));
    }
    v = global_avg_pool_walk(v, 8);
    v = dense_walk(m.tensor("head.weight"), m.tensor("head.bias"), v.first, v.second, false);
    for (double var : v.second) bounds.push_back(6 * std::sqrt(var));
  }
  return bounds;
}

}  // namespace

BOOST_AUTO_TEST_CASE(residual_blocks_with_stochastic_depth_in_onnx_runtime) {
  auto m = compile<residual_net, plan>();
  train_a_little(m, 40);
  const std::vector<float> x = test_images(512);
  const std::vector<float> logits = m.predict(x);
  exported_equals_kiln(m, {}, x, logits, "residual", six_sigma(m, x, 512));

  // The graph's initializers are the model's tensors by kiln's names: it imports back.
  auto back = compile<residual_net, plan>({.seed = 99, .seed_set = true});
  BOOST_TEST(rt::load_trained(back, "residual.onnx").empty());
  BOOST_TEST(back.predict(x) == logits, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(predict_takes_any_number_of_samples_and_allocates_nothing) {
  auto m = compile<residual_net, plan>();
  train_a_little(m, 5);
  // 150 samples: two whole batches of 64 and a part; the same logits as one call per sample.
  const std::vector<float> x = test_images(150);
  std::vector<float> out(150 * 10);
  m.predict(x, out);  // the first call may size what the trainer keeps (thread team)
  const long before = kiln::test::allocations.load();
  m.predict(x, out);
  BOOST_TEST(kiln::test::allocations.load() - before == 0);
  // One sample at a time: GEMMs of another row count sum in another order (OpenBLAS picks its
  // kernels by shape), so the last bits may differ: each logit within 6σ of the rounding walk.
  const std::vector<double> bounds = six_sigma(m, x, 150);
  for (const std::size_t i : {0u, 63u, 64u, 149u}) {
    const std::vector<float> one = m.predict(std::span<const float>(x).subspan(i * 784, 784));
    for (std::size_t c = 0; c < 10; ++c)
      BOOST_TEST(std::fabs(one[c] - out[i * 10 + c]) <= bounds[i * 10 + c]);
  }
  BOOST_CHECK_THROW(m.predict(std::span<const float>(x).subspan(0, 783)), config_error);
}
