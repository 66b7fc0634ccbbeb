// The models of torch_import (the command line: torch_import.cpp).
#include <kiln/kiln.hpp>
#include <kiln/runtime/io/import.hpp>

#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "torch_import.hpp"

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

void print_logits(const std::vector<float>& logits, int count, int classes) {
  for (int i = 0; i < count; ++i) {
    std::printf("[");
    for (int c = 0; c < classes; ++c)
      std::printf("%s%.9g", c ? ", " : "", logits[std::size_t(i) * classes + c]);
    std::printf("]\n");
  }
}

template <auto Model>
int run_model(const sample::options& a) {
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

int sample::run(const options& a) {
  try {
    if (a.arch == "cnn") return run_model<cnn>(a);
    if (a.arch == "cnn_bn") return run_model<cnn_bn>(a);
    return run_model<mlp>(a);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}
