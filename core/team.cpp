#include "kiln/core/team.hpp"

#include <exception>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define KILN_PAUSE() _mm_pause()
#else
#define KILN_PAUSE() std::this_thread::yield()
#endif

namespace kiln::rt {

namespace {
// A step's kernels are microseconds apart: spin about that long (tens of microseconds) before
// sleeping, so a run() costs about a microsecond on an idle machine and little on a busy one.
constexpr int spin_iterations = 4000;
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

void team::run_erased(void* ctx, void (*fn)(void*, int)) {
  ctx_ = ctx;
  fn_ = fn;
  pending_.store(int(workers_.size()), std::memory_order_relaxed);
  generation_.fetch_add(1, std::memory_order_release);
  generation_.notify_all();
  fn(ctx, 0);
  for (int spins = 0; pending_.load(std::memory_order_acquire) != 0;) {
    if (++spins < spin_iterations) {
      KILN_PAUSE();
    } else {
      const int left = pending_.load(std::memory_order_acquire);
      if (left != 0) pending_.wait(left, std::memory_order_acquire);
    }
  }
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
    try {
      fn_(ctx_, member);
    } catch (...) {
      std::terminate();  // run() documents that f must not throw
    }
    if (pending_.fetch_sub(1, std::memory_order_acq_rel) == 1) pending_.notify_one();
  }
}

}  // namespace kiln::rt
