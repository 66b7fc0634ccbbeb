// Ensembles on Fashion-MNIST with the MLP: K members from different seeds (trained side by
// side, one per core), their averaged probabilities and majority vote; a snapshot ensemble
// (one run, cyclic cosine schedule, a snapshot at the end of each cycle); and Polyak / EMA
// weights kept by the fused update. Then the wall time of 2 members on 2 cores against 1.
//
//   ensemble [--data DIR] [--members K] [--epochs N] [--timing-epochs N]
#include <CLI/CLI.hpp>
#include <kiln/runtime/data/fashion_mnist.hpp>

#include "ensemble.hpp"

int main(int argc, char** argv) {
  sample::options o = sample::defaults();
  o.data = kiln::rt::fashion_mnist_dir().string();
  CLI::App app("Ensembles, snapshot ensembles and EMA weights on Fashion-MNIST.", "ensemble");
  app.add_option("--data", o.data, "Fashion-MNIST folder")->capture_default_str();
  app.add_option("--members", o.members, "Members of the ensemble")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  app.add_option("--epochs", o.epochs, "Epochs per member and of the snapshot run")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--timing-epochs", o.timing_epochs, "Epochs of the 1-vs-2-cores timing (0: skip)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_flag("--timing-only", o.timing_only, "Only the 1-vs-2-cores timing");
  CLI11_PARSE(app, argc, argv);
  return sample::run(o);
}
