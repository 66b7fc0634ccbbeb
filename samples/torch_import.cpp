// Bringing a PyTorch model over: the same nn.Sequential declared in kiln's DSL, its state dict
// loaded from safetensors, .npz or ONNX, and kiln's logits printed for comparison.
//
//   torch_import --arch mlp --weights tests/data/torch/mlp.safetensors [--count N] [--data DIR]
//
// The PyTorch side (scripts/make_torch_fixtures.py):
//   mlp    = nn.Sequential(nn.Flatten(), nn.Linear(784, 64), nn.ReLU(), nn.Linear(64, 10))
//   cnn    = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
//                          nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
//                          nn.Flatten(), nn.Linear(784, 10))
//   cnn_bn = cnn with nn.BatchNorm2d(8) right after the first conv (evaluated in eval mode)
// and its state dict names tensors by module position: "1.weight", "1.bias", "3.weight", ...
// kiln names the same tensors by the DSL's .name ("hidden.weight") and knows their
// nn.Sequential names too, so naming::sequential maps one onto the other.
//
// Prints the logits of the first N test images (one JSON array per line), then
// `test_accuracy=<value>` over the whole Fashion-MNIST test set. Inputs are pixel / 255, NCHW,
// as in PyTorch.
#include <CLI/CLI.hpp>
#include <kiln/kiln.hpp>
#include <kiln/runtime/io/import.hpp>

#include <cstdio>
#include <exception>
#include <string>
#include <vector>

using namespace kiln::dsl;
namespace rt = kiln::rt;

namespace {

constexpr auto mlp = input<1, 28, 28> | flatten{}                     //
                     | dense{.units = 64, .name = "hidden"} | relu{}  //
                     | dense{.units = 10, .name = "logits"} | softmax_cross_entropy{};

constexpr auto cnn = input<1, 28, 28>                                                          //
                     | conv2d{.filters = 8, .kernel = 3, .pad = 1, .name = "conv1"} | relu{}   //
                     | max_pool{.size = 2}                                                     //
                     | conv2d{.filters = 16, .kernel = 3, .pad = 1, .name = "conv2"} | relu{}  //
                     | max_pool{.size = 2} | flatten{}                                         //
                     | dense{.units = 10, .name = "logits"} | softmax_cross_entropy{};

constexpr auto cnn_bn = input<1, 28, 28>                                                 //
                        | conv2d{.filters = 8, .kernel = 3, .pad = 1, .name = "conv1"}   //
                        | batch_norm{.name = "bn1"} | relu{} | max_pool{.size = 2}       //
                        | conv2d{.filters = 16, .kernel = 3, .pad = 1, .name = "conv2"}  //
                        | relu{} | max_pool{.size = 2} | flatten{}                       //
                        | dense{.units = 10, .name = "logits"} | softmax_cross_entropy{};

// Inference only: the plan's optimizer is never used; the batch is the evaluation batch.
constexpr auto inference = training_plan{.optimizer = sgd{}, .batch = 500};

struct arguments {
  std::string arch, weights, data = rt::fashion_mnist_dir().string();
  int count = 32;
};

void print_logits(const std::vector<float>& logits, int count, int classes) {
  for (int i = 0; i < count; ++i) {
    std::printf("[");
    for (int c = 0; c < classes; ++c)
      std::printf("%s%.9g", c ? ", " : "", logits[std::size_t(i) * classes + c]);
    std::printf("]\n");
  }
}

template <auto Model>
int run(const arguments& a) {
  auto model = kiln::compile<Model, inference>();
  // The state dict of an nn.Sequential: every tensor must be there, nothing else may be.
  rt::load_weights(model, a.weights, {.strict = true, .names = rt::naming::sequential});

  const rt::dataset test = rt::fashion_mnist(a.data).test;
  const int count = std::min<int>(a.count, int(test.size()));
  const int classes = model.info().outputs;
  std::vector<float> logits(std::size_t(count) * classes);
  for (int first = 0; first < count; first += model.batch()) {
    const int n = std::min(model.batch(), count - first);
    const std::size_t sample = test.sample_size();
    model.eval_step({n, test.x.data() + first * sample, test.labels.data() + first, nullptr},
                    logits.data() + std::size_t(first) * classes);
  }
  print_logits(logits, count, classes);
  std::printf("test_accuracy=%.4f\n", rt::evaluate(model, test, model.batch()).accuracy);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  arguments a;
  CLI::App app(
      "Loads a PyTorch state dict into the same model declared in kiln and prints its "
      "logits on Fashion-MNIST test images.",
      "torch_import");
  app.add_option("--arch", a.arch, "The architecture (see the top of torch_import.cpp)")
      ->required()
      ->check(CLI::IsMember({"mlp", "cnn", "cnn_bn"}));
  app.add_option("--weights", a.weights, "State dict: .safetensors, .npz or .onnx")->required();
  app.add_option("--count", a.count, "Test images whose logits are printed")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_option("--data", a.data, "Fashion-MNIST folder")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  try {
    if (a.arch == "cnn") return run<cnn>(a);
    if (a.arch == "cnn_bn") return run<cnn_bn>(a);
    return run<mlp>(a);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}
