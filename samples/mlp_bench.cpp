// One training epoch of the Fashion-MNIST MLP (784-256-128-10, SGD momentum 0.9, lr 0.05,
// batch 64) against its GEMM-bound time: the same products (the engine's, codegen/engine) with the
// same shapes and the same chunks across threads, measured in the same run; and against its
// FLOP-bound time: the epoch's FLOPs (2 per multiply-add forward, 4 backward, no input gradient
// for the first layer: 60.4 GFLOP) at the core's matmul peak, probed in the same run (a 512³
// oneDNN matmul, f32, or bf16 with --precision bf16). The epoch is timed like PyTorch's peer
// (../shared/peers/torch_fmnist_mlp.py): the training loop only (batch gather + forward + backward
// + update).
//
//   mlp_bench [--threads 1,2] [--repeats 5] [--json] [--only kiln|gemm] [--cpu-clock]
//             [--precision f32|bf16]

#include <cstdio>
#include <exception>

#include "common/command_line.hpp"
#include "mlp_bench.hpp"

int main(int argc, char** argv) {
  sample::options o;
  common::command_line app("kiln MLP epoch vs its GEMM-bound time");
  app.add("--threads", o.threads, "thread counts").delimiter(',');
  app.flag("--cpu-clock", o.cpu_clock, "time the main thread's CPU time (1 thread only)");
  app.add("--only", o.only, "run one side only (for profilers)").one_of({"kiln", "gemm"});
  app.add("--repeats", o.repeats, "epochs per measurement (median)").positive();
  app.flag("--json", o.json, "one JSON object on stdout instead of the table");
  app.add("--precision", o.precision, "the plan's products: f32, or bf16 (f32 accumulation)")
      .one_of({"f32", "bf16"});
  if (const auto status = app.parse(argc, argv)) return *status;
  try {
    return sample::run(o);
  } catch (const std::exception& e) {  // a missing or damaged data set
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}
