// kiln-zoo's models, one translation unit each (samples/zoo_<name>.cpp): every TU holding a
// trainer compiles its kernels for all Highway targets, so two in one TU would double its time.
#pragma once

#include <string>
#include <string_view>

struct zoo_model {
  // Loads the zoo's weights (SHA-256 verified) and returns the test accuracy on Fashion-MNIST.
  double (*evaluate)(std::string_view name, const std::string& data);
  // Writes the model as an ONNX graph.
  void (*export_onnx)(std::string_view name, const std::string& out);
};

zoo_model zoo_fmnist_mlp();
zoo_model zoo_fmnist_cnn();

#ifdef KILN_ZOO_MODEL_TU  // in samples/zoo_<name>.cpp, after <kiln/kiln.hpp>
template <auto Model>
zoo_model zoo_model_of() {
  return {[](std::string_view name, const std::string& data) {
            auto m = kiln::zoo::pretrained<Model>(name);
            return kiln::rt::evaluate(m, kiln::rt::fashion_mnist(data).test, m.batch()).accuracy;
          },
          [](std::string_view name, const std::string& out) {
            kiln::rt::write_onnx(out, kiln::zoo::pretrained<Model>(name, {.batch = 1}));
          }};
}
#endif
