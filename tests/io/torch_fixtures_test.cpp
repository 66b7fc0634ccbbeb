// PyTorch fixtures (made once by scripts/make_torch_fixtures.py, committed under
// tests/data/torch/): the same state dict as safetensors, .npz and ONNX gives kiln the logits
// PyTorch computed, within what summing in another order allows (tests/support/rounding_walk.hpp),
// and PyTorch's F16 / BF16 / F64 conversions are kiln's.
#define BOOST_TEST_MODULE io_torch_fixtures
#include <boost/test/unit_test.hpp>

#include <kiln/kiln.hpp>

#include <algorithm>
#include <cmath>
#include <fstream>

#include "kiln/runtime/data/fashion_mnist.hpp"
#include "kiln/runtime/io/import.hpp"
#include "kiln/runtime/io/npy.hpp"
#include "kiln/runtime/io/safetensors.hpp"
#include "../support/rounding_walk.hpp"

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
constexpr auto inference = training_plan{.optimizer = sgd{}, .batch = 500};

const rt::dataset& test_set() {
  static const rt::dataset d = rt::fashion_mnist().test;
  return d;
}

double torch_accuracy(const std::string& arch) {
  std::ifstream in(fixtures + arch + ".json");
  std::string text((std::istreambuf_iterator<char>(in)), {});
  return std::stod(text.substr(text.find(':') + 1));
}

// The random walk of the roundings (tests/support/rounding_walk.hpp) through the arch's layers
// for one image: kiln and PyTorch add each dot product's terms in other orders (OpenBLAS, oneDNN
// against MKL-DNN / PyTorch's kernels), so a logit may differ by 6σ (once in 10⁹).
template <class M>
kiln::test::walk logits_walk(M& m, const std::string& arch, const float* image) {
  using namespace kiln::test;
  walk x{std::vector<double>(image, image + 784), std::vector<double>(784, 0.0)};
  if (arch == "mlp") {
    x = dense_walk(m.tensor("hidden.weight"), m.tensor("hidden.bias"), x.first, x.second, true);
    return dense_walk(m.tensor("logits.weight"), m.tensor("logits.bias"), x.first, x.second, false);
  }
  const bool bn = arch == "cnn_bn";
  const std::string c1 = bn ? "c1" : "0", c2 = bn ? "4" : "3", fc = bn ? "fc" : "7";
  x = conv_walk(m.tensor(c1 + ".weight"), m.tensor(c1 + ".bias"), x, 1, 28);
  x = bn ? relu_walk(batch_norm_walk(m, "bn", x, 8, 1e-5)) : relu_walk(x);  // PyTorch's default eps
  x = max_pool_walk(x, 8, 28);
  x = max_pool_walk(
      relu_walk(conv_walk(m.tensor(c2 + ".weight"), m.tensor(c2 + ".bias"), x, 8, 14)), 16, 14);
  return dense_walk(m.tensor(fc + ".weight"), m.tensor(fc + ".bias"), x.first, x.second, false);
}

}  // namespace

// Loads the arch's state dict in each format into Model; logits and accuracy as PyTorch's, but
// for rounding.
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
      double sigmas = 0;  // the largest difference, in σ
      for (std::size_t s = 0; s < 32; ++s) {
        const auto var = logits_walk(model, arch, test_set().x.data() + s * 784).second;
        for (std::size_t c = 0; c < 10; ++c) {
          const double d = std::abs(logits[s * 10 + c] - expected.values[s * 10 + c]);
          BOOST_TEST_REQUIRE(d <= 6 * std::sqrt(var[c]));
          sigmas = std::max(sigmas, d / std::sqrt(var[c]));
        }
      }
      BOOST_TEST_MESSAGE(arch << ": logits within " << sigmas << "σ of PyTorch's");
      // The accuracy may differ by the share of predictions whose top two logits are within 6σ
      // of each other (their 6σ for the difference); gaps of 0.1 and more are far beyond it
      // (checked: the largest 6σ found stays below 0.01).
      const int images = int(test_set().size());
      std::vector<float> all(std::size_t(images) * 10);
      for (int at = 0; at < images; at += 500)
        model.eval_step({500, test_set().x.data() + std::size_t(at) * 784,
                         test_set().labels.data() + at, nullptr},
                        all.data() + std::size_t(at) * 10);
      int could_flip = 0;
      double widest = 0;
      for (int s = 0; s < images; ++s) {
        const float* z = all.data() + std::size_t(s) * 10;
        const int top = int(std::max_element(z, z + 10) - z);
        int next = top == 0 ? 1 : 0;
        for (int c = 0; c < 10; ++c)
          if (c != top && z[c] > z[next]) next = c;
        if (z[top] - z[next] >= 0.1) continue;
        const auto var =
            logits_walk(model, arch, test_set().x.data() + std::size_t(s) * 784).second;
        const double six_sigma = 6 * std::sqrt(var[std::size_t(top)] + var[std::size_t(next)]);
        widest = std::max(widest, six_sigma);
        could_flip += z[top] - z[next] <= six_sigma;
      }
      BOOST_TEST(widest < 0.01);
      BOOST_TEST_MESSAGE(arch << ": " << could_flip << " predictions could flip, 6σ <= " << widest);
      const double accuracy = rt::evaluate(model, test_set(), 500).accuracy;
      BOOST_TEST(std::abs(accuracy - torch_accuracy(arch)) <= double(could_flip) / images + 1e-12);
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
