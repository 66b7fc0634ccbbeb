// Transfer learning on Fashion-MNIST: pretrain on classes 0-4 (T-shirt, trouser, pullover,
// dress, coat), then learn classes 5-9 (sandal, shirt, sneaker, bag, ankle boot) from 10, 50,
// 200 or all labelled images per class, three ways:
//   scratch      the same network, freshly initialized, trained on the few images;
//   linear probe the pretrained body frozen: its features computed once, only a new head trained;
//   fine-tune    the pretrained body with a 10x lower learning rate, a new head at the full one.
// Prints a table of test accuracies on classes 5-9 (mean over --repeats draws of the images).
//
//   transfer [--data DIR] [--repeats N] [--pretrain-epochs N] [--threads N]
#include <kiln/runtime/data/fashion_mnist.hpp>

#include "common/command_line.hpp"
#include "transfer.hpp"

int main(int argc, char** argv) {
  sample::options o;
  o.data = kiln::rt::fashion_mnist_dir().string();
  common::command_line app("Transfer learning on Fashion-MNIST: classes 0-4 -> classes 5-9.",
                           "transfer");
  app.add("--data", o.data, "Fashion-MNIST folder").show_default();
  app.add("--repeats", o.repeats, "Draws of the labelled images per size")
      .positive()
      .show_default();
  app.add("--pretrain-epochs", o.pretrain_epochs).positive().show_default();
  app.add("--threads", o.threads, "GEMM threads").positive().show_default();
  if (const auto status = app.parse(argc, argv)) return *status;
  return sample::run(o);
}
