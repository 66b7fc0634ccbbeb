#include "kiln/core/team.hpp"

#include <chrono>
#include <exception>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define KILN_PAUSE() _mm_pause()
#else
#define KILN_PAUSE() std::this_thread::yield()
#endif

namespace kiln::rt {

namespace {
// A step's kernels are microseconds apart: spin about that long before sleeping, so a run()
// costs about a microsecond on an idle machine, and a thread that waits on a loaded one gives
// its core away after some tens of microseconds (then a futex wakes it).
constexpr int spin_iterations = 2000;
constexpr std::uint64_t closed = 1ull << 31, joined_mask = closed - 1;
}  // namespace

team::team(int members) {
  if (members < 1) members = 1;
  workers_.reserve(std::size_t(members - 1));
  for (int m = 1; m < members; ++m) workers_.emplace_back([this, m] { work(m); });
}

team::~team() {
  stop_.store(true);
  generation_.fetch_add(1);
  generation_.notify_all();
  for (auto& w : workers_) w.join();
}

namespace {
std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}
}  // namespace

void team::run_erased(void* ctx, void (*fn)(void*, int), bool all) {
  if (!all && guard_.solo()) return fn(ctx, 0);  // the others are not woken
  ctx_ = ctx;
  fn_ = fn;
  done_.store(0, std::memory_order_relaxed);
  const unsigned g = generation_.load(std::memory_order_relaxed) + 1;
  entry_.store(std::uint64_t(g) << 32, std::memory_order_relaxed);
  generation_.store(g, std::memory_order_release);
  generation_.notify_all();
  const std::int64_t start = all ? 0 : now_ns();
  fn(ctx, 0);
  // run(): every worker joins; run_some(): close the run, wait for those who joined.
  const int expect = all ? int(workers_.size())
                         : int(entry_.fetch_or(closed, std::memory_order_acq_rel) & joined_mask);
  const std::int64_t own_end = all || expect == 0 ? 0 : now_ns();
  for (int spins = 0;;) {
    const int d = done_.load(std::memory_order_acquire);
    if (d == expect) break;
    if (++spins < spin_iterations)
      KILN_PAUSE();
    else
      done_.wait(d, std::memory_order_acquire);
  }
  if (own_end) guard_.observe(own_end - start, now_ns() - own_end);
}

void team::work(int member) {
  unsigned seen = 0;
  for (;;) {
    unsigned g = generation_.load(std::memory_order_acquire);
    for (int spins = 0; g == seen; g = generation_.load(std::memory_order_acquire)) {
      if (++spins < spin_iterations)
        KILN_PAUSE();
      else
        generation_.wait(seen, std::memory_order_acquire);
    }
    seen = g;
    if (stop_.load()) return;
    // Join run g unless it is closed or already over (then a later one has started: the loop
    // sees its generation next).
    std::uint64_t e = entry_.load(std::memory_order_acquire);
    bool in = false;
    while ((e >> 32) == g && !(e & closed))
      if (entry_.compare_exchange_weak(e, e + 1, std::memory_order_acq_rel)) {
        in = true;
        break;
      }
    if (!in) continue;
    try {
      fn_(ctx_, member);
    } catch (...) {
      std::terminate();  // run() documents that f must not throw
    }
    done_.fetch_add(1, std::memory_order_acq_rel);
    done_.notify_one();
  }
}

}  // namespace kiln::rt
