// Data-parallel step time of the Fashion-MNIST samples (fmnist_mlp, fmnist_cnn), split into
// compute and the allreduce of the gradients, with the allreduce itself timed apart (after a
// barrier, so that no rank waits for another's compute): run it alone and under mpirun.
//
//   dp_bench [--model mlp|cnn] [--steps 300] [--batch 64] [--repeats 3] [--overlap]
//   mpirun -np 2 dp_bench ...
//
// Prints, on rank 0, one line per model: medians over the steps (after a warm-up) of the step
// and its thread CPU time, its compute (the step without its exchanges) and the exchanges (the
// gradients' allreduce and batch_norm's statistics, waiting for the slowest rank included); then
// the parts by themselves: a step on the rank's shard with no exchange, and the gradients'
// allreduce with every rank ready. On a machine shared with other work the CPU times say what
// the compute costs whatever the wall clock says.
#include <CLI/CLI.hpp>
#include <kiln/runtime/data/fashion_mnist.hpp>

#include "dp_bench.hpp"

int main(int argc, char** argv) {
  sample::options o;
  o.data = kiln::rt::fashion_mnist_dir().string();
  CLI::App app("Data-parallel step time: compute against the gradient allreduce");
  app.add_option("--model", o.models, "mlp, cnn or both")->capture_default_str();
  app.add_option("--steps", o.steps, "Steps measured (after a warm-up)")->capture_default_str();
  app.add_option("--batch", o.batch, "Global batch")->capture_default_str();
  app.add_option("--repeats", o.repeats, "Runs of each model")->capture_default_str();
  app.add_flag("--overlap", o.overlap, "Each layer's gradient sum overlaps the backward pass");
  app.add_option("--data", o.data, "Fashion-MNIST folder")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  return sample::run(o);
}
