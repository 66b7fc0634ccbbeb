// One training epoch of the PyTorch peer's CNN (fmnist_cnn_peer.hpp: the model and plan are
// shared with that trainer), timed like the peer (../shared/peers/torch_fmnist_mlp.py): the
// training loop only (batch gather + forward + backward + update). scripts/bench_cnn.py runs it
// alternately with PyTorch. Beside it, the epoch's FLOP-bound time: its FLOPs (2 per multiply-add
// forward, 4 backward, no input gradient for the first conv: 357.9 GFLOP) at the core's matmul
// peak probed in the same run (a 512³ oneDNN matmul, f32, or bf16 with --precision bf16).
//
//   cnn_bench [--threads 1,2] [--repeats 3] [--json] [--cpu-clock] [--precision f32|bf16]
#include <kiln/runtime/data/loader.hpp>

#include <algorithm>
#include <cstdlib>
#include <cstdio>
#include <string>
#include <vector>

#include "common/command_line.hpp"
#include "common/json.hpp"
#include "common/timing.hpp"
#include "fmnist_cnn_peer.hpp"

namespace {

// Wall time, or with --cpu-clock the calling thread's CPU time: steadier on a busy machine for
// one thread (it leaves out the time the thread waits for a core), wrong for several.
bool cpu_clock = false;

clockid_t clock_id() { return cpu_clock ? CLOCK_THREAD_CPUTIME_ID : CLOCK_MONOTONIC; }
using common::median;

constexpr auto plan_bf16 = kiln::with_precision<plan, kiln::bf16>;

// Per sample: conv1 (1→16, 3×3, 28×28), conv2 (16→32, 3×3, 14×14), fc 1568→10 multiply-adds.
double epoch_flops(long samples) {
  const double conv1 = 16.0 * 9 * 784, conv2 = 32.0 * 144 * 196, fc = 1568.0 * 10;
  return (4 * conv1 + 6 * conv2 + 6 * fc) * double(samples);
}

template <class Trainer>
double epoch_seconds(Trainer& t, kiln::rt::batch_loader& loader, int epoch) {
  return common::timed_epoch(t, loader, epoch, clock_id());
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<int> threads{1};
  int repeats = 3;
  bool json = false;
  std::string precision = "f32";
  common::command_line cl("One training epoch of the PyTorch peer's CNN against its FLOP bound.",
                          "cnn_bench");
  cl.add("--threads", threads, "thread counts").delimiter(',').positive().show_default();
  cl.add("--repeats", repeats, "epochs per measurement (median)").positive().show_default();
  cl.flag("--json", json, "one JSON object on stdout instead of the table");
  cl.flag("--cpu-clock", cpu_clock, "time the main thread's CPU time (1 thread only)");
  cl.add("--precision", precision, "the plan's products: f32, or bf16 (f32 accumulation)")
      .one_of({"f32", "bf16"})
      .show_default();
  if (const auto status = cl.parse(argc, argv)) return *status;

  const auto data = kiln::rt::fashion_mnist();
  const bool half = precision == "bf16";
  const double peak = kiln::engine::peak_gflops(kiln::engine::precision::f32);
  const double flops = epoch_flops(long(data.train.size()));
  std::vector<common::json_object> rows;
  if (!json)
    std::printf(
        "%s; f32 matmul peak %.0f GFLOP/s; epoch %.1f GFLOP\nthreads  epoch s  FLOP-bound s  "
        "epoch/FLOP\n",
        precision.c_str(), peak, flops / 1e9);
  for (const int th : threads) {
    std::vector<double> s;
    auto run = [&]<auto Plan>() {
      auto t = kiln::compile<model, Plan>({.threads = th});
      kiln::rt::batch_loader loader(data.train, {.batch = Plan.batch, .seed = 0});
      epoch_seconds(t, loader, 0);  // warm-up: page faults, dispatch tables
      for (int r = 0; r < repeats; ++r) s.push_back(epoch_seconds(t, loader, r + 1));
    };
    if (half)
      run.template operator()<plan_bf16>();
    else
      run.template operator()<plan>();
    const double fb = flops / (peak * 1e9);
    if (!json) std::printf("%7d  %7.3f  %12.3f  %10.2f\n", th, median(s), fb, median(s) / fb);
    rows.push_back(common::json_object()
                       .add("threads", th)
                       .add("kiln_epoch_s", median(s))
                       .add("flop_bound_s", fb)
                       .add("kiln_over_flop", median(s) / fb));
  }
  if (json)
    std::printf("{\"precision\": \"%s\", \"peak_gflops\": %g, \"epoch_gflop\": %g, \"runs\":%s}\n",
                precision.c_str(), peak, flops / 1e9, common::json_array(rows).c_str());
}
