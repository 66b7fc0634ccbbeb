// kiln-zoo: the model zoo from the command line.
//   kiln-zoo list                 the models, their accuracy, normalization and checksum
//   kiln-zoo eval NAME [--data]   loads NAME (SHA-256 verified) and evaluates it on Fashion-MNIST
//   kiln-zoo pack IN OUT          stores trained weights (model.safetensors of a run) as the zoo
//                                 keeps them (F16, parameters and buffers) and prints the SHA-256
//   kiln-zoo export NAME OUT.onnx the whole model as an ONNX graph (input: pixel / 255, 1x28x28)
#include <kiln/core/error.hpp>
#include <kiln/runtime/data/fashion_mnist.hpp>
#include <kiln/runtime/io/bytes.hpp>
#include <kiln/runtime/io/safetensors.hpp>
#include <kiln/runtime/io/sha256.hpp>
#include <kiln/runtime/zoo/zoo.hpp>

#include "common/command_line.hpp"
#include "zoo_models.hpp"

#include <cstdio>
#include <string>

namespace rt = kiln::rt;

namespace {

void list() {
  for (const kiln::zoo::entry& e : kiln::zoo::entries()) {
    std::printf(
        "%s\n  architecture   %s\n  trained on     %s\n  inputs         %s\n"
        "  test accuracy  %.4f\n  weights        %s (sha256 %s)\n  reproduce      %s\n",
        std::string(e.name).c_str(), std::string(e.architecture).c_str(),
        std::string(e.dataset).c_str(), std::string(e.normalization).c_str(), e.accuracy,
        (kiln::zoo::directory() / e.weights).c_str(), std::string(e.sha256).c_str(),
        std::string(e.reproduce).c_str());
  }
}

// The zoo model `name` with its DSL architecture (dsl/zoo.hpp), compiled in its own TU.
zoo_model architecture(const std::string& name) {
  kiln::zoo::find(name);  // an unknown name is reported with the list
  if (name == "fmnist_mlp") return zoo_fmnist_mlp();
  if (name == "fmnist_cnn") return zoo_fmnist_cnn();
  throw kiln::config_error("zoo", "'" + name + "' has no architecture in this tool");
}

void pack(const std::string& in, const std::string& out) {
  const rt::tensor_file f = rt::read_tensor_file(in);
  std::vector<rt::tensor_ref> refs;
  for (const auto& t : f.tensors)
    if (!t.name.ends_with("momentum_buffer") && !t.name.ends_with(".ema"))
      refs.push_back({t.name, t.shape, t.values});
  rt::write_safetensors(out, refs, {{"format", "pt"}}, rt::dtype::f16);
  std::printf("%s  %s\n", rt::sha256_hex(rt::io::read_file(out)).c_str(), out.c_str());
}

}  // namespace

int main(int argc, char** argv) {
  common::command_line app("kiln's model zoo: named pretrained models, SHA-256 verified.",
                           "kiln-zoo");
  app.require_subcommand();
  auto list_cmd = app.subcommand("list", "The models of the zoo");
  std::string name, data = rt::fashion_mnist_dir().string(), in, out;
  auto eval_cmd = app.subcommand("eval", "Evaluate a zoo model on its test set");
  eval_cmd.add("name", name, "The model's name").required();
  eval_cmd.add("--data", data, "Fashion-MNIST folder").show_default();
  auto pack_cmd = app.subcommand("pack", "Store trained weights as the zoo keeps them");
  pack_cmd.add("in", in, "Weights (.safetensors, .npz, ...)").required();
  pack_cmd.add("out", out, "The zoo file to write").required();
  auto export_cmd = app.subcommand("export", "Write a zoo model as an ONNX graph");
  export_cmd.add("name", name, "The model's name").required();
  export_cmd.add("out", out, "The .onnx file to write").required();
  if (const auto status = app.parse(argc, argv)) return *status;
  try {
    if (list_cmd.parsed()) list();
    if (eval_cmd.parsed())
      std::printf("test_accuracy=%.4f\n", architecture(name).evaluate(name, data));
    if (pack_cmd.parsed()) pack(in, out);
    if (export_cmd.parsed()) {
      architecture(name).export_onnx(name, out);
      std::printf("onnx=%s\n", out.c_str());
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
