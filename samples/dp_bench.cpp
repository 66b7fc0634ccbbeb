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
#include <kiln/runtime/data/fashion_mnist.hpp>

#include "common/command_line.hpp"
#include "dp_bench.hpp"

int main(int argc, char** argv) {
  sample::options o;
  o.data = kiln::rt::fashion_mnist_dir().string();
  common::command_line app("Data-parallel step time: compute against the gradient allreduce");
  app.add("--model", o.models, "mlp, cnn or both").show_default();
  app.add("--steps", o.steps, "Steps measured (after a warm-up)").show_default();
  app.add("--batch", o.batch, "Global batch").show_default();
  app.add("--repeats", o.repeats, "Runs of each model").show_default();
  app.flag("--overlap", o.overlap, "Each layer's gradient sum overlaps the backward pass");
  app.add("--data", o.data, "Fashion-MNIST folder").show_default();
  if (const auto status = app.parse(argc, argv)) return *status;
  return sample::run(o);
}
