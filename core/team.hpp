// A fixed team of threads that run one function together: the caller is member 0, the others
// wait (spinning briefly, then sleeping) for the next run. Used to split a step's kernels across
// cores with a static partition, so results do not depend on timing.
#pragma once

#include <atomic>
#include <cstddef>
#include <thread>
#include <vector>

namespace kiln::rt {

class team {
 public:
  explicit team(int members = 1);
  ~team();
  team(const team&) = delete;
  team& operator=(const team&) = delete;

  int size() const noexcept { return int(workers_.size()) + 1; }

  // Runs f(member) for member = 0 .. size()-1, member 0 on the calling thread, and returns when
  // all have finished. f must not throw. Allocates nothing.
  template <class F>
  void run(F&& f) {
    if (workers_.empty()) return f(0);
    run_erased(&f, [](void* p, int m) { (*static_cast<std::remove_reference_t<F>*>(p))(m); });
  }

 private:
  void run_erased(void* ctx, void (*fn)(void*, int));
  void work(int member);

  std::vector<std::thread> workers_;
  void* ctx_ = nullptr;
  void (*fn_)(void*, int) = nullptr;
  std::atomic<unsigned> generation_{0};
  std::atomic<int> pending_{0};
  std::atomic<bool> stop_{false};
};

// The part of [0, total) that `member` of `members` takes: contiguous, in order, starts aligned to
// `align` elements (except possibly the first), sizes differing by at most `align`.
struct span_range {
  std::size_t lo = 0, hi = 0;
  std::size_t size() const noexcept { return hi - lo; }
};
inline span_range split(std::size_t total, int members, int member, std::size_t align = 1) {
  const std::size_t blocks = (total + align - 1) / align;
  const auto m = std::size_t(members), i = std::size_t(member);
  const std::size_t lo = std::min(total, (blocks * i / m) * align);
  const std::size_t hi = std::min(total, (blocks * (i + 1) / m) * align);
  return {lo, hi};
}

}  // namespace kiln::rt
