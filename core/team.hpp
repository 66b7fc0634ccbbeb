// A fixed team of threads that run one function together: the caller is member 0, the others
// wait (spinning briefly, then sleeping on a futex through std::atomic::wait) for the next run.
// run(): every member runs f (a static partition by member, so results do not depend on timing).
// run_some(): the members that arrive in time run f and the caller waits only for those that
// joined: for work that members claim chunk by chunk (engine::claim), where a member the OS has
// descheduled (another process on its core) must not hold up the step.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
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
    run_erased(
        &f, [](void* p, int m) { (*static_cast<std::remove_reference_t<F>*>(p))(m); }, true);
  }
  // Runs f(member) on the caller (member 0) and on each other member that starts before the
  // caller's f returns; returns when those have finished. Allocates nothing.
  template <class F>
  void run_some(F&& f) {
    if (workers_.empty()) return f(0);
    run_erased(
        &f, [](void* p, int m) { (*static_cast<std::remove_reference_t<F>*>(p))(m); }, false);
  }

 private:
  void run_erased(void* ctx, void (*fn)(void*, int), bool all);
  void work(int member);

  std::vector<std::thread> workers_;
  void* ctx_ = nullptr;
  void (*fn_)(void*, int) = nullptr;
  std::atomic<unsigned> generation_{0};
  // Who joined run `generation_`: its number in the upper 32 bits, bit 31 set once the run is
  // closed (run_some: no one joins after the caller's part), the count of members joined below.
  std::atomic<std::uint64_t> entry_{0};
  std::atomic<int> done_{0};  // members of this run that finished
  std::atomic<bool> stop_{false};
};

// The part of [0, total) that `member` of `members` takes: contiguous, in order, starts aligned to
// `align` elements (except possibly the first), sizes differing by at most `align`.
struct span_range {
  std::size_t lo = 0, hi = 0;
  std::size_t size() const noexcept { return hi - lo; }
};
inline span_range share_of(std::size_t total, int members, int member, std::size_t align = 1) {
  const std::size_t blocks = (total + align - 1) / align;
  const auto m = std::size_t(members), i = std::size_t(member);
  const std::size_t lo = std::min(total, (blocks * i / m) * align);
  const std::size_t hi = std::min(total, (blocks * (i + 1) / m) * align);
  return {lo, hi};
}

}  // namespace kiln::rt
