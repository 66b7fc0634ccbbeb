// PyTorch fixtures (made once by scripts/make_torch_fixtures.py, committed under
// tests/data/torch/): the same state dict as safetensors, .npz and ONNX gives kiln the logits
// PyTorch computed, to 1e-5, and PyTorch's F16 / BF16 / F64 conversions are kiln's.
#define BOOST_TEST_MODULE io_torch_fixtures
#include <boost/test/unit_test.hpp>

#include <kiln/kiln.hpp>

#include <cmath>
#include <fstream>

#include "kiln/runtime/data/fashion_mnist.hpp"
#include "kiln/runtime/io/import.hpp"
#include "kiln/runtime/io/npy.hpp"
#include "kiln/runtime/io/safetensors.hpp"

using namespace kiln::dsl;
namespace rt = kiln::rt;

namespace {

const std::string fixtures = std::string(KILN_FIXTURES) + "/torch/";

constexpr auto mlp = input<1, 28, 28> | flatten{} | dense{.units = 64, .name = "hidden"} | relu{} |
                     dense{.units = 10, .name = "logits"} | softmax_cross_entropy{};
constexpr auto cnn = input<1, 28, 28> | conv2d{.filters = 8, .kernel = 3, .pad = 1} | relu{} |
                     max_pool{.size = 2} | conv2d{.filters = 16, .kernel = 3, .pad = 1} | relu{} |
                     max_pool{.size = 2} | flatten{} | dense{.units = 10} | softmax_cross_entropy{};
constexpr auto cnn_bn =
    input<1, 28, 28> | conv2d{.filters = 8, .kernel = 3, .pad = 1, .name = "c1"} |
    batch_norm{.name = "bn"} | relu{} | max_pool{.size = 2} |
    conv2d{.filters = 16, .kernel = 3, .pad = 1} | relu{} | max_pool{.size = 2} | flatten{} |
    dense{.units = 10, .name = "fc"} | softmax_cross_entropy{};
constexpr auto inference = schedule{.optimizer = sgd{}, .batch = 500};

const rt::dataset& test_set() {
  static const rt::dataset d = rt::fashion_mnist().test;
  return d;
}

double torch_accuracy(const std::string& arch) {
  std::ifstream in(fixtures + arch + ".json");
  std::string text((std::istreambuf_iterator<char>(in)), {});
  return std::stod(text.substr(text.find(':') + 1));
}

}  // namespace

// Loads the arch's state dict in each format into Model; logits to 1e-5, accuracy as PyTorch's.
template <auto Model>
void matches_pytorch(const std::string& arch) {
  const auto expected = rt::read_npy(fixtures + arch + "_logits.npy").tensors.at(0);
  BOOST_REQUIRE(expected.shape == std::vector<std::size_t>({32, 10}));
  for (const char* format : {"safetensors", "npz", "onnx"}) {
    BOOST_TEST_CONTEXT("format " << format) {
      auto model = kiln::compile<Model, inference>();
      rt::load_weights(model, fixtures + arch + "." + format, {.names = rt::naming::sequential});
      std::vector<float> logits(320);
      model.eval_step({32, test_set().x.data(), test_set().labels.data(), nullptr}, logits.data());
      for (std::size_t i = 0; i < logits.size(); ++i)
        BOOST_TEST_REQUIRE(std::abs(logits[i] - expected.values[i]) <=
                           1e-5 * std::max(1.0f, std::abs(expected.values[i])));
      const double accuracy = rt::evaluate(model, test_set(), 500).accuracy;
      BOOST_TEST(std::abs(accuracy - torch_accuracy(arch)) <= 2e-4);  // at most 2 ties differ
    }
  }
}

BOOST_AUTO_TEST_CASE(mlp_logits_match_pytorch_in_every_format) { matches_pytorch<mlp>("mlp"); }
BOOST_AUTO_TEST_CASE(cnn_logits_match_pytorch_in_every_format) { matches_pytorch<cnn>("cnn"); }
BOOST_AUTO_TEST_CASE(cnn_bn_logits_match_pytorch_in_every_format) {
  matches_pytorch<cnn_bn>("cnn_bn");  // BatchNorm's running statistics, eval mode
}

BOOST_AUTO_TEST_CASE(half_bfloat_and_double_convert_as_pytorch_does) {
  const auto f = rt::read_safetensors(fixtures + "dtypes.safetensors");
  for (const char* name : {"half", "bfloat", "double"}) {
    BOOST_TEST_CONTEXT(name) {
      const auto* stored = f.find(name);
      const auto* expected = f.find(std::string(name) + "_as_float");
      BOOST_REQUIRE(stored && expected);
      BOOST_TEST(stored->values == expected->values, boost::test_tools::per_element());
    }
  }
  BOOST_TEST((f.find("half")->stored == rt::dtype::f16));
  BOOST_TEST((f.find("bfloat")->stored == rt::dtype::bf16));
  BOOST_TEST((f.find("double")->stored == rt::dtype::f64));
}
