// Timing for the samples and benchmarks: clocks read as seconds, and the median that every
// figure is reported as (one figure on a shared machine says little; the median of a few says
// what a run costs).
#pragma once

#include <time.h>

#include <algorithm>
#include <vector>

namespace common {

// Seconds on `clock`: CLOCK_MONOTONIC (wall), CLOCK_THREAD_CPUTIME_ID (the calling thread's
// CPU time: steadier on a busy machine for one thread), CLOCK_PROCESS_CPUTIME_ID (every thread).
inline double now(clockid_t clock = CLOCK_MONOTONIC) {
  timespec t{};
  clock_gettime(clock, &t);
  return double(t.tv_sec) + 1e-9 * double(t.tv_nsec);
}

inline double seconds_since(double start, clockid_t clock = CLOCK_MONOTONIC) {
  return now(clock) - start;
}

// One training epoch of `t` through a batch loader, timed on `clock`: the benchmarks' unit of
// measure (mlp_bench, cnn_bench), the loop their PyTorch peers time.
template <class Trainer, class Loader>
double timed_epoch(Trainer& t, Loader& loader, int epoch, clockid_t clock = CLOCK_MONOTONIC) {
  const double start = now(clock);
  loader.start_epoch(epoch);
  t.begin_epoch(epoch, loader.batches_per_epoch());
  while (auto b = loader.next()) t.train_step(*b);
  return seconds_since(start, clock);
}

// The middle value (the upper one of an even count); 0 for none.
inline double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace common
