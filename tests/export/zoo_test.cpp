// The zoo's MLP and CNN (batch norm) exported and run by ONNX Runtime: the same logits as
// kiln's predict on real Fashion-MNIST test images, each logit within 6σ of the random walk of
// the roundings that summing in another order (and MLAS folding batch norm into the convolution)
// may make (tests/support/rounding_walk.hpp).
#define BOOST_TEST_MODULE export_onnx
#include <boost/test/unit_test.hpp>

#include <kiln/zoo.hpp>
#include <kiln/kiln.hpp>

#include "../support/onnx.hpp"
#include "../support/rounding_walk.hpp"

using namespace kiln;
using namespace kiln::test;

// 6σ of each of the n images' logits, from walk(image).
template <class Walk>
std::vector<double> six_sigma(const std::vector<float>& x, std::size_t n, Walk walk) {
  std::vector<double> bounds;
  for (std::size_t s = 0; s < n; ++s)
    for (double var : walk(x.data() + s * 784).second) bounds.push_back(6 * std::sqrt(var));
  return bounds;
}

BOOST_AUTO_TEST_CASE(zoo_mlp_in_onnx_runtime) {
  auto m = zoo::pretrained<zoo::fmnist_mlp>("fmnist_mlp");
  const std::vector<float> x = test_images(1000);
  const auto bounds = six_sigma(x, 1000, [&](const float* image) {
    walk v{std::vector<double>(image, image + 784), std::vector<double>(784, 0.0)};
    v = dense_walk(m.tensor("fc1.weight"), m.tensor("fc1.bias"), v.first, v.second, true);
    v = dense_walk(m.tensor("fc2.weight"), m.tensor("fc2.bias"), v.first, v.second, true);
    return dense_walk(m.tensor("head.weight"), m.tensor("head.bias"), v.first, v.second, false);
  });
  exported_equals_kiln(m, {}, x, m.predict(x), "mlp", bounds);
}

BOOST_AUTO_TEST_CASE(zoo_cnn_with_batch_norm_in_onnx_runtime) {
  auto m = zoo::pretrained<zoo::fmnist_cnn>("fmnist_cnn");
  // 250 images: the walk through the convolutions takes 10 ms an image.
  const std::vector<float> x = test_images(250);
  const auto bounds = six_sigma(x, 250, [&](const float* image) {
    walk v{std::vector<double>(image, image + 784), std::vector<double>(784, 0.0)};
    v = conv_walk(m.tensor("conv1.weight"), m.tensor("conv1.bias"), v, 1, 28);
    v = max_pool_walk(relu_walk(batch_norm_walk(m, "bn1", v, 32, 1e-5)), 32, 28);
    v = conv_walk(m.tensor("conv2.weight"), m.tensor("conv2.bias"), v, 32, 14);
    v = max_pool_walk(relu_walk(batch_norm_walk(m, "bn2", v, 64, 1e-5)), 64, 14);
    v = dense_walk(m.tensor("fc1.weight"), m.tensor("fc1.bias"), v.first, v.second, false);
    v = relu_walk(batch_norm_walk(m, "bn3", v, 256, 1e-5));
    return dense_walk(m.tensor("head.weight"), m.tensor("head.bias"), v.first, v.second, false);
  });
  exported_equals_kiln(m, {}, x, m.predict(x), "cnn", bounds);
}
