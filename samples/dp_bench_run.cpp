// The measurements of dp_bench (the command line: dp_bench.cpp).
#include <kiln/kiln.hpp>
#include <kiln/runtime/data/loader.hpp>
#include <kiln/core/comm.hpp>

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "common/timing.hpp"
#include "dp_bench.hpp"

namespace mlp {
#include "fmnist_mlp.hpp"
}
namespace cnn {
#include "fmnist_cnn.hpp"
}

namespace {

namespace rt = kiln::rt;

using common::median;
using common::now;

template <auto Model, auto Plan>
void bench(const char* name, const rt::dataset& train, const sample::options& o,
           const rt::comm& c) {
  kiln::trainer_options to;
  to.batch = o.batch;
  to.overlap = o.overlap;
  kiln::trainer<Model, Plan> t(to);
  t.set_comm(&c);
  rt::loader_options lo;
  lo.batch = o.batch;
  lo.shards = c.size();
  lo.shard = c.rank();
  if (auto plan = t.augmentation(); !plan.empty()) lo.augment = rt::augmenter(plan);
  rt::batch_loader loader(train, lo);
  int epoch = 0;
  t.begin_epoch(epoch, loader.batches_per_epoch());
  loader.start_epoch(epoch);
  const auto next = [&] {
    auto b = loader.next();
    if (!b) {
      loader.start_epoch(++epoch);
      b = loader.next();
    }
    return *b;
  };
  const int warmup = std::max(10, o.steps / 10);
  std::vector<double> step, compute, reduce, cpu;
  for (int s = 0; s < warmup + o.steps; ++s) {
    const rt::batch b = next();
    const double r0 = rt::comm::seconds(), t0 = now(), c0 = now(CLOCK_THREAD_CPUTIME_ID);
    t.train_step(b);
    const double dt = now() - t0, dr = rt::comm::seconds() - r0;
    if (s < warmup) continue;
    step.push_back(dt);
    compute.push_back(dt - dr);
    reduce.push_back(dr);
    cpu.push_back(now(CLOCK_THREAD_CPUTIME_ID) - c0);
  }
  // What the parts cost by themselves: this rank's steps on its shard without any exchange
  // (every rank at once, as in the run), and the gradients' allreduce with every rank ready.
  t.set_comm(nullptr);
  std::vector<double> shard, shard_cpu;
  for (int s = 0; s < o.steps; ++s) {
    const rt::batch b = next();
    if (b.n == 0) continue;
    const double t0 = now(), c0 = now(CLOCK_THREAD_CPUTIME_ID);
    t.train_step(b);
    shard.push_back(now() - t0);
    shard_cpu.push_back(now(CLOCK_THREAD_CPUTIME_ID) - c0);
  }
  std::vector<float> g(t.gradients().begin(), t.gradients().end());
  std::vector<double> alone;
  for (int k = 0; k < 50 && c.distributed(); ++k) {
    c.barrier("timing");
    const double t0 = now();
    c.sum(std::span(g), "timing");
    alone.push_back(now() - t0);
  }
  if (c.rank() != 0) return;
  const double ms = 1e3;
  std::printf(
      "%s%s ranks=%d batch=%d (%d per rank) params=%zu: step %.3f ms (CPU %.3f) = compute %.3f + "
      "exchange %.3f | alone: shard step %.3f ms (CPU %.3f), gradient allreduce %.3f ms; "
      "%.0f samples/s\n",
      name, o.overlap ? "-overlap" : "", c.size(), o.batch, (o.batch + c.size() - 1) / c.size(),
      t.gradients().size(), median(step) * ms, median(cpu) * ms, median(compute) * ms,
      median(reduce) * ms, median(shard) * ms, median(shard_cpu) * ms, median(alone) * ms,
      o.batch / median(step));
  std::fflush(stdout);
}

}  // namespace

int sample::run(const options& o) {
  try {
    const rt::comm& c = rt::comm::world();
    const rt::train_test d = rt::fashion_mnist(o.data);
    for (int r = 0; r < o.repeats; ++r) {
      if (o.models.find("mlp") != std::string::npos)
        bench<mlp::model, mlp::plan>("mlp", d.train, o, c);
      if (o.models.find("cnn") != std::string::npos)
        bench<cnn::model, cnn::plan>("cnn", d.train, o, c);
    }
  } catch (const std::exception& e) {
    rt::comm::world().abort(e.what());  // every rank stops, none waits for this one
  }
  return 0;
}
