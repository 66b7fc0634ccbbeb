// The second_order sample's runs, shared by its translation units (each compiles a few trainers,
// so that none takes long to build): a run trains one model with one method on the whole subset
// and records the training loss after every step or iteration.
#pragma once

#include <kiln/kiln.hpp>

#include <string>
#include <vector>

#include "common/timing.hpp"

namespace second_order_sample {

struct point {
  double seconds = 0;
  long evaluations = 0;  // of the loss and gradient over the whole subset
  double loss = 0;       // mean training loss at the newest point the method evaluated
};

struct run {
  std::string model, method;
  std::vector<point> trace;
};

// What every run gets: the subset as one batch, the evaluation budget, GEMM threads.
struct budget {
  kiln::rt::batch all;
  long evaluations = 300;
  int threads = 1;
};

// The whole subset is one chunk, so every method evaluates the same GEMM shapes.
inline constexpr int most_samples = 10'000;

inline constexpr const char* softmax_name = "softmax regression";
inline constexpr const char* mlp_name = "MLP 784-64-10";
using namespace kiln::dsl;
inline constexpr auto softmax_regression =
    input<1, 28, 28> | flatten{} | dense{.units = 10} | softmax_cross_entropy{};
inline constexpr auto small_mlp = input<1, 28, 28> | flatten{} | dense{.units = 64} | relu{} |
                                  dense{.units = 10} | softmax_cross_entropy{};

// Defined in second_order_sgd.cpp, second_order_adam.cpp and second_order_solvers.cpp.
std::vector<run> sgd_runs(const budget& b);
std::vector<run> adam_runs(const budget& b);
std::vector<run> solver_runs(const budget& b);

// Wall time, or with --cpu-clock the calling thread's CPU time: steadier on a busy machine with
// one thread (it leaves out the time the thread waits for a core), wrong for several.
inline bool cpu_clock = false;
inline double now() { return common::now(cpu_clock ? CLOCK_THREAD_CPUTIME_ID : CLOCK_MONOTONIC); }

// First-order, full batch: each step evaluates the loss and gradient at the current point and
// updates; its loss is that of the point before the update. The trace ends with the loss where
// the last update went.
template <auto Model, auto Plan>
run first_order(const char* model, const char* method, const budget& b) {
  auto t = kiln::compile<Model, Plan>({.threads = b.threads});
  const auto mean_loss = [&] { return t.loss(b.all, false).loss_sum / b.all.n; };
  run r{model, method, {{0, 0, mean_loss()}}};
  t.begin_epoch(0, b.evaluations);
  const double start = now();
  for (long k = 1; k <= b.evaluations; ++k) {
    const double loss = t.train_step(b.all).loss_sum / b.all.n;
    r.trace.push_back({now() - start, k, loss});
  }
  r.trace.push_back({now() - start, b.evaluations + 1, mean_loss()});
  return r;
}

// Full batch by design: the solver steps until the budget is spent (each step starts with one
// evaluation, as PyTorch's LBFGS.step does); an observer records the loss after every iteration.
template <auto Model, auto Plan>
run second_order(const char* model, const char* method, const budget& b) {
  auto t = kiln::compile<Model, Plan>({.threads = b.threads});
  run r{model, method, {{0, 0, t.loss(b.all, false).loss_sum / b.all.n}}};
  const double start = now();
  t.observe([&](const kiln::second_order::iteration& i) {
    r.trace.push_back({now() - start, i.evaluations, i.loss});
  });
  while (t.solver().evaluations() < b.evaluations) t.full_batch_step({&b.all, 1});
  return r;
}

}  // namespace second_order_sample
