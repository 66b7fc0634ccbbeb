// The measurements of mlp_bench (the command line: mlp_bench.cpp).
#include <kiln/kiln.hpp>
#include <kiln/runtime/data/loader.hpp>

#include <algorithm>
#include <cstdio>
#include <vector>

#include "common/json.hpp"
#include "common/timing.hpp"
#include "mlp_bench.hpp"

using namespace kiln::dsl;

namespace {

constexpr auto model = input<1, 28, 28> | flatten{}                   //
                       | dense{.units = 256, .name = "fc1"} | relu{}  //
                       | dense{.units = 128, .name = "fc2"} | relu{}  //
                       | dense{.units = 10, .name = "head"} | softmax_cross_entropy{};
constexpr auto plan = training_plan{.optimizer = sgd{.lr = 0.05, .momentum = 0.9}, .batch = 64};
constexpr auto plan_bf16 = kiln::with_precision<plan, kiln::bf16>;
constexpr int dims[4] = {784, 256, 128, 10};

// FLOPs of one epoch of `samples`: forward 2 per multiply-add, backward 4 (dW and dx), the first
// layer without dx.
double epoch_flops(long samples) {
  double per = 0;
  for (int i = 0; i < 3; ++i) per += (i == 0 ? 4.0 : 6.0) * dims[i] * dims[i + 1];
  return per * double(samples);
}

// Wall time, or with --clock cpu the calling thread's CPU time: steadier on a busy machine
// for one thread (it leaves out the time the thread waits for a core), wrong for several.
bool cpu_clock = false;

clockid_t clock_id() { return cpu_clock ? CLOCK_THREAD_CPUTIME_ID : CLOCK_MONOTONIC; }
double now() { return common::now(clock_id()); }
double seconds_since(double t0) { return now() - t0; }
using common::median;

// The training loop of one epoch through kiln's loader and trainer.
template <class Trainer>
double kiln_epoch(Trainer& t, kiln::rt::batch_loader& loader, int epoch) {
  return common::timed_epoch(t, loader, epoch, clock_id());
}

// The products of the same epoch, nothing else, through the trainer's own engine objects
// (codegen::dense_prims: the same primitives, chunks and claiming): forward x·Wᵀ + b, dW = dyᵀ·x,
// dx = dy·W (not for the first layer); bf16 inputs rounded once per step as the trainer does.
double gemm_epoch(long samples, int threads, kiln::engine::precision in) {
  constexpr int B = 64;
  std::vector<float> act[4], w[3], gw[3], dact[4];
  std::vector<std::uint16_t> wh[3];
  for (int i = 0; i < 4; ++i) act[i].assign(B * dims[i], 0.01f), dact[i] = act[i];
  for (int i = 0; i < 3; ++i)
    w[i].assign(dims[i] * dims[i + 1] + dims[i + 1], 0.01f), gw[i] = w[i],
                                                             wh[i].assign(w[i].size(), 0x3c24);
  namespace cg = kiln::codegen;
  namespace en = kiln::engine;
  std::vector<std::unique_ptr<cg::dense_prims>> p;
  for (int i = 0; i < 3; ++i)
    p.push_back(std::make_unique<cg::dense_prims>(en::setup{B, threads, in}, dims[i], dims[i + 1]));
  kiln::rt::team team(threads);
  const bool half = in == en::precision::bf16;
  const double t0 = now();
  for (long done = 0; done < samples; done += B) {
    const int n = int(std::min<long>(B, samples - done));
    for (int i = 0; i < 3; ++i) {
      cg::dense_prims& d = *p[std::size_t(i)];
      const void* x = act[i].data();
      const void* wi = half ? static_cast<const void*>(wh[i].data()) : w[i].data();
      if (half) en::to_bf16(act[i].data(), d.xh.data(), std::size_t(n) * dims[i]), x = d.xh.data();
      float* bias = w[i].data() + dims[i] * dims[i + 1];
      en::claim(&team, d.forward.count(),
                [&](int m, long j) { d.forward.run(m, j, x, wi, act[i + 1].data(), bias, n); });
    }
    for (int i = 2; i >= 0; --i) {
      cg::dense_prims& d = *p[std::size_t(i)];
      const void* dy = dact[i + 1].data();
      const void* x = half ? static_cast<const void*>(d.xh.data()) : act[i].data();
      const void* wi = half ? static_cast<const void*>(wh[i].data()) : w[i].data();
      if (half)
        en::to_bf16(dact[i + 1].data(), d.dyh.data(), std::size_t(n) * dims[i + 1]),
            dy = d.dyh.data();
      en::claim(&team, d.dw.count(),
                [&](int m, long j) { d.dw.run(m, j, dy, x, gw[i].data(), nullptr, n); });
      if (i > 0)
        en::claim(&team, d.dx.count(),
                  [&](int m, long j) { d.dx.run(m, j, dy, wi, dact[i].data(), nullptr, n); });
    }
  }
  return seconds_since(t0);
}

template <auto Plan>
void measure(const kiln::rt::train_test& data, int th, int repeats, const std::string& only,
             std::vector<double>& k, std::vector<double>& g) {
  auto t = kiln::compile<model, Plan>({.threads = th});
  kiln::rt::batch_loader loader(data.train, {.batch = 64, .seed = 0});
  const auto in = Plan.precision == kiln::bf16
                      ? kiln::engine::effective(kiln::engine::precision::bf16)
                      : kiln::engine::precision::f32;
  kiln_epoch(t, loader, 0);  // warm-up: page faults, dispatch
  for (int r = 0; r < repeats; ++r) {
    k.push_back(only != "gemm" ? kiln_epoch(t, loader, r + 1) : 0.0);
    g.push_back(only != "kiln" ? gemm_epoch(long(data.train.size()), th, in) : 0.0);
  }
}

}  // namespace

int sample::run(const options& o) {
  cpu_clock = o.cpu_clock;
  const std::vector<int>& threads = o.threads;
  const int repeats = o.repeats;
  const bool json = o.json;
  const std::string &only = o.only, &precision = o.precision;
  const auto data = kiln::rt::fashion_mnist();
  const bool half = precision == "bf16";
  // The core's matmul peak now, on this thread (the FLOP-bound line's rate); f32 always, and
  // bf16 for a bf16 run.
  const double peak = kiln::engine::peak_gflops(kiln::engine::precision::f32);
  const double peak_half = half ? kiln::engine::peak_gflops(kiln::engine::precision::bf16) : 0;
  const double flops = epoch_flops(long(data.train.size()));
  std::vector<common::json_object> rows;
  if (!json)
    std::printf("%s; f32 matmul peak %.0f GFLOP/s%s; epoch %.1f GFLOP\n", precision.c_str(), peak,
                half ? (", bf16 " + std::to_string(int(peak_half))).c_str() : "", flops / 1e9);
  std::printf(
      "%s",
      json ? "" : "threads  kiln epoch s  GEMM-bound s  FLOP-bound s  kiln/GEMM  kiln/FLOP\n");
  for (const int th : threads) {
    std::vector<double> k, g;
    if (half)
      measure<plan_bf16>(data, th, repeats, only, k, g);
    else
      measure<plan>(data, th, repeats, only, k, g);
    const double km = median(k), gm = median(g), fb = flops / (peak * 1e9);
    if (!json)
      std::printf("%7d  %12.3f  %12.3f  %12.3f  %9.2f  %9.2f\n", th, km, gm, fb, km / gm, km / fb);
    rows.push_back(common::json_object()
                       .add("threads", th)
                       .add("kiln_epoch_s", km)
                       .add("gemm_bound_s", gm)
                       .add("kiln_over_gemm", km / gm)
                       .add("flop_bound_s", fb)
                       .add("kiln_over_flop", km / fb));
  }
  if (json)
    std::printf(
        "{\"precision\": \"%s\", \"peak_gflops\": %g, \"peak_bf16_gflops\": %g, "
        "\"epoch_gflop\": %g, \"runs\":%s}\n",
        precision.c_str(), peak, peak_half, flops / 1e9, common::json_array(rows).c_str());
  return 0;
}
