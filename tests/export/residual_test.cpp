// A residual network with stochastic depth (blocks scaled by their survival probability at test
// time, 0.75 and 0.5 here), fused conv | relu | max_pool, global pooling: exported, run by ONNX
// Runtime, and read back as weights.
#include <boost/test/unit_test.hpp>

#include <kiln/kiln.hpp>

#include "../support/allocations.hpp"
#include "support.hpp"

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
constexpr auto plan = schedule{.optimizer = sgd{.lr = 0.05, .momentum = 0.9}, .batch = 64};

}  // namespace

BOOST_AUTO_TEST_CASE(residual_blocks_with_stochastic_depth_in_onnx_runtime) {
  auto m = compile<residual_net, plan>();
  train_a_little(m, 40);
  const std::vector<float> x = test_images(512);
  const std::vector<float> logits = m.predict(x);
  exported_equals_kiln(m, {}, x, logits, "residual");

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
  // kernels by shape), so the last bits may differ: the logits (|z| < 6) within 1e-5.
  for (const std::size_t i : {0u, 63u, 64u, 149u}) {
    const std::vector<float> one = m.predict(std::span<const float>(x).subspan(i * 784, 784));
    const std::vector<float> in_batch(out.begin() + long(i * 10), out.begin() + long(i * 10 + 10));
    BOOST_TEST(max_difference(one, in_batch) <= 1e-5);
  }
  BOOST_CHECK_THROW(m.predict(std::span<const float>(x).subspan(0, 783)), config_error);
}
