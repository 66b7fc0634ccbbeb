// Ensembles on Fashion-MNIST with the MLP: K members from different seeds (trained side by
// side, one per core), their averaged probabilities and majority vote; a snapshot ensemble
// (one run, cyclic cosine schedule, a snapshot at the end of each cycle); and Polyak / EMA
// weights kept by the fused update. Then the wall time of 2 members on 2 cores against 1.
//
//   ensemble [--data DIR] [--members K] [--epochs N] [--timing-epochs N]
#include <kiln/runtime/data/fashion_mnist.hpp>

#include "common/command_line.hpp"
#include "ensemble.hpp"

int main(int argc, char** argv) {
  sample::options o = sample::defaults();
  o.data = kiln::rt::fashion_mnist_dir().string();
  common::command_line app("Ensembles, snapshot ensembles and EMA weights on Fashion-MNIST.",
                           "ensemble");
  app.add("--data", o.data, "Fashion-MNIST folder").show_default();
  app.add("--members", o.members, "Members of the ensemble").range(1, 64).show_default();
  app.add("--epochs", o.epochs, "Epochs per member and of the snapshot run")
      .positive()
      .show_default();
  app.add("--timing-epochs", o.timing_epochs, "Epochs of the 1-vs-2-cores timing (0: skip)")
      .non_negative()
      .show_default();
  app.flag("--timing-only", o.timing_only, "Only the 1-vs-2-cores timing");
  if (const auto status = app.parse(argc, argv)) return *status;
  return sample::run(o);
}
