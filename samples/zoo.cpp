// kiln-zoo: the model zoo from the command line.
//   kiln-zoo list                 the models, their accuracy, normalization and checksum
//   kiln-zoo eval NAME [--data]   loads NAME (SHA-256 verified) and evaluates it on Fashion-MNIST
//   kiln-zoo pack IN OUT          stores trained weights (model.safetensors of a run) as the zoo
//                                 keeps them (F16, parameters and buffers) and prints the SHA-256
#include <CLI/CLI.hpp>
#include <kiln/zoo.hpp>
#include <kiln/kiln.hpp>
#include <kiln/runtime/io/bytes.hpp>
#include <kiln/runtime/io/sha256.hpp>

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

template <auto Model>
double evaluate(std::string_view name, const std::string& data) {
  auto m = kiln::zoo::pretrained<Model>(name);
  return rt::evaluate(m, rt::fashion_mnist(data).test, m.batch()).accuracy;
}

// Every zoo name with its DSL architecture (dsl/zoo.hpp).
double evaluate_named(const std::string& name, const std::string& data) {
  kiln::zoo::find(name);  // an unknown name is reported with the list
  if (name == "fmnist_mlp") return evaluate<kiln::zoo::fmnist_mlp>(name, data);
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
  CLI::App app("kiln's model zoo: named pretrained models, SHA-256 verified.", "kiln-zoo");
  app.require_subcommand(1);
  auto* list_cmd = app.add_subcommand("list", "The models of the zoo");
  std::string name, data = rt::fashion_mnist_dir().string(), in, out;
  auto* eval_cmd = app.add_subcommand("eval", "Evaluate a zoo model on its test set");
  eval_cmd->add_option("name", name, "The model's name")->required();
  eval_cmd->add_option("--data", data, "Fashion-MNIST folder")->capture_default_str();
  auto* pack_cmd = app.add_subcommand("pack", "Store trained weights as the zoo keeps them");
  pack_cmd->add_option("in", in, "Weights (.safetensors, .npz, ...)")->required();
  pack_cmd->add_option("out", out, "The zoo file to write")->required();
  CLI11_PARSE(app, argc, argv);
  try {
    if (list_cmd->parsed()) list();
    if (eval_cmd->parsed()) std::printf("test_accuracy=%.4f\n", evaluate_named(name, data));
    if (pack_cmd->parsed()) pack(in, out);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
