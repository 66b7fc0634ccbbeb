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
#include <kiln/runtime/data/fashion_mnist.hpp>

#include "common/command_line.hpp"
#include "torch_import.hpp"

int main(int argc, char** argv) {
  sample::options a;
  a.data = kiln::rt::fashion_mnist_dir().string();
  common::command_line app(
      "Loads a PyTorch state dict into the same model declared in kiln and prints its "
      "logits on Fashion-MNIST test images.",
      "torch_import");
  app.add("--arch", a.arch, "The architecture (see the top of torch_import.cpp)")
      .required()
      .one_of({"mlp", "cnn", "cnn_bn"});
  app.add("--weights", a.weights, "State dict: .safetensors, .npz or .onnx").required();
  app.add("--count", a.count, "Test images whose logits are printed").non_negative().show_default();
  app.add("--data", a.data, "Fashion-MNIST folder").show_default();
  if (const auto status = app.parse(argc, argv)) return *status;
  return sample::run(a);
}
