// The zoo's MLP and CNN (batch norm) exported and run by ONNX Runtime: the same logits as
// kiln's predict on real Fashion-MNIST test images (support.hpp: the tolerance).
#define BOOST_TEST_MODULE export_onnx
#include <boost/test/unit_test.hpp>

#include <kiln/codegen/zoo.hpp>
#include <kiln/kiln.hpp>

#include "support.hpp"

using namespace kiln;
using namespace kiln::test;

BOOST_AUTO_TEST_CASE(zoo_mlp_in_onnx_runtime) {
  auto m = zoo::pretrained<zoo::fmnist_mlp>("fmnist_mlp");
  const std::vector<float> x = test_images(1000);
  exported_equals_kiln(m, {}, x, m.predict(x), "mlp");
}

BOOST_AUTO_TEST_CASE(zoo_cnn_with_batch_norm_in_onnx_runtime) {
  auto m = zoo::pretrained<zoo::fmnist_cnn>("fmnist_cnn");
  const std::vector<float> x = test_images(1000);
  exported_equals_kiln(m, {}, x, m.predict(x), "cnn");
}
