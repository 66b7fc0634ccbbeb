// One training epoch of the Fashion-MNIST MLP (784-256-128-10, SGD momentum 0.9, lr 0.05,
// batch 64) against its GEMM-bound time: the same GEMM calls with the same shapes and the same
// split across threads, measured in the same run. The epoch is timed like PyTorch's peer
// (../shared/peers/torch_fmnist_mlp.py): the training loop only (batch gather + forward + backward
// + update).
//
//   mlp_bench [--threads 1,2] [--repeats 5] [--json] [--only kiln|gemm] [--cpu-clock]
#include <CLI/CLI.hpp>
#include <kiln/kiln.hpp>
#include <kiln/runtime/data/loader.hpp>

#include <algorithm>
#include <cstdio>
#include <vector>

#include "common/json.hpp"
#include "common/timing.hpp"

using namespace kiln::dsl;

namespace {

constexpr auto model = input<1, 28, 28> | flatten{}                   //
                       | dense{.units = 256, .name = "fc1"} | relu{}  //
                       | dense{.units = 128, .name = "fc2"} | relu{}  //
                       | dense{.units = 10, .name = "head"} | softmax_cross_entropy{};
constexpr auto plan = schedule{.optimizer = sgd{.lr = 0.05, .momentum = 0.9}, .batch = 64};

// Wall time, or with --clock cpu the calling thread's CPU time: steadier on a busy machine
// for one thread (it leaves out the time the thread waits for a core), wrong for several.
bool cpu_clock = false;

double now() { return common::now(cpu_clock ? CLOCK_THREAD_CPUTIME_ID : CLOCK_MONOTONIC); }
double seconds_since(double t0) { return now() - t0; }
using common::median;

// The training loop of one epoch through kiln's loader and trainer.
double kiln_epoch(kiln::trainer<model, plan>& t, kiln::rt::batch_loader& loader, int epoch) {
  const double t0 = now();
  loader.start_epoch(epoch);
  t.begin_epoch(epoch, loader.batches_per_epoch());
  while (auto b = loader.next()) t.train_step(*b);
  return seconds_since(t0);
}

// The GEMMs of the same epoch, nothing else, split across `threads` like kiln splits them:
// forward x·Wᵀ by output columns, dW = dyᵀ·x by rows, dx = dy·W by columns (the first layer's dx
// is not needed).
double gemm_epoch(long samples, int threads) {
  constexpr int B = 64, dims[4] = {784, 256, 128, 10};
  std::vector<float> act[4], w[3], gw[3], dact[4];
  for (int i = 0; i < 4; ++i) act[i].assign(B * dims[i], 0.01f), dact[i] = act[i];
  for (int i = 0; i < 3; ++i) w[i].assign(dims[i] * dims[i + 1], 0.01f), gw[i] = w[i];
  namespace cg = kiln::codegen;
  kiln::rt::team team(threads);
  auto each = [&](int total, std::size_t align, auto f) {
    team.run([&](int m) {
      const auto r = kiln::rt::split(std::size_t(total), team.size(), m, align);
      if (r.size()) f(int(r.lo), int(r.size()));
    });
  };
  const double t0 = now();
  for (long done = 0; done < samples; done += B) {
    const int n = int(std::min<long>(B, samples - done));
    for (int i = 0; i < 3; ++i) {
      const int in = dims[i], out = dims[i + 1];
      each(out, 16, [&](int lo, int cols) {
        cg::gemm_nt(n, cols, in, act[i].data(), in, w[i].data() + lo * in, in,
                    act[i + 1].data() + lo, out);
      });
    }
    for (int i = 2; i >= 0; --i) {
      const int in = dims[i], out = dims[i + 1];
      each(out, 1, [&](int lo, int rows) {
        cg::gemm_tn(rows, in, n, dact[i + 1].data() + lo, out, act[i].data(), in,
                    gw[i].data() + lo * in, in);
      });
      if (i > 0)
        each(in, 16, [&](int lo, int cols) {
          cg::gemm_nn(n, cols, out, dact[i + 1].data(), out, w[i].data() + lo, in,
                      dact[i].data() + lo, in);
        });
    }
  }
  return seconds_since(t0);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"kiln MLP epoch vs its GEMM-bound time"};
  std::vector<int> threads{1, 2};
  int repeats = 5;
  bool json = false;
  std::string only;
  app.add_option("--threads", threads, "thread counts")->delimiter(',');
  app.add_flag("--cpu-clock", cpu_clock, "time the main thread's CPU time (1 thread only)");
  app.add_option("--only", only, "run one side only (for profilers)")
      ->check(CLI::IsMember({"kiln", "gemm"}));
  app.add_option("--repeats", repeats, "epochs per measurement (median)")
      ->check(CLI::PositiveNumber);
  app.add_flag("--json", json, "one JSON object on stdout instead of the table");
  CLI11_PARSE(app, argc, argv);

  const auto data = kiln::rt::fashion_mnist();
  std::vector<common::json_object> rows;
  std::printf("%s", json ? "" : "threads  kiln epoch s  GEMM-bound s  kiln/GEMM\n");
  for (const int th : threads) {
    auto t = kiln::compile<model, plan>({.threads = th});
    kiln::rt::batch_loader loader(data.train, {.batch = 64, .seed = 0});
    std::vector<double> k, g;
    kiln_epoch(t, loader, 0);  // warm-up: page faults, dispatch, BLAS buffers
    for (int r = 0; r < repeats; ++r) {
      k.push_back(only != "gemm" ? kiln_epoch(t, loader, r + 1) : 0.0);
      g.push_back(only != "kiln" ? gemm_epoch(long(data.train.size()), th) : 0.0);
    }
    const double km = median(k), gm = median(g);
    if (!json) std::printf("%7d  %12.3f  %12.3f  %9.2f\n", th, km, gm, km / gm);
    rows.push_back(common::json_object()
                       .add("threads", th)
                       .add("kiln_epoch_s", km)
                       .add("gemm_bound_s", gm)
                       .add("kiln_over_gemm", km / gm));
  }
  if (json) std::printf("{\"runs\":%s}\n", common::json_array(rows).c_str());
}
