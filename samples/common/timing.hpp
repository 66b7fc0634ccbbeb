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

// The middle value (the upper one of an even count); 0 for none.
inline double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace common
