// A fixed team of threads that run one function together: the caller is member 0, the others
// wait (spinning briefly, then sleeping on a futex through std::atomic::wait) for the next run.
// run(): every member runs f (a static partition by member, so results do not depend on timing).
// run_some(): the members that arrive in time run f and the caller waits only for those that
// joined: for work that members claim chunk by chunk (engine::claim), where a member the OS has
// descheduled (another process on its core) must not hold up the step. A member descheduled
// after it joined still does; when that happens (straggler_guard), the next run_some calls run
// on the caller alone for a while.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <thread>
#include <vector>

namespace kiln::rt {

// When run_some should leave the other members out. The caller of a run that finished its own
// part and then waited for a joined member longer than that part took (and longer than
// `floor_ns`: shorter delays are a wake-up or a brief preemption by the batch loader's thread,
// which 0.2 ms mistook for stalls on an idle machine) was held up by a member the OS descheduled
// mid-chunk: another process wants its core. Waiting again would cost each run a scheduler time
// slice (milliseconds, against microseconds of work), so the next `backoff()` runs go on the
// caller alone, which runs the same chunks one after another. Each stall doubles the backoff (up
// to `most`); `calm` runs in a row without one halve it. Which member runs a chunk never changes
// its result, so this decides speed only, never the numbers.
class straggler_guard {
 public:
  static constexpr std::int64_t floor_ns = 1'000'000;
  static constexpr long first = 16, most = 1L << 16, calm = 1024;

  // Whether the next run goes on the caller alone (counts it down).
  bool solo() noexcept {
    if (solo_left_ == 0) return false;
    --solo_left_;
    ++solo_runs_;
    return true;
  }
  // A run that others joined: how long the caller's own part took, how long it then waited.
  void observe(std::int64_t own_ns, std::int64_t wait_ns) noexcept {
    if (wait_ns > own_ns && wait_ns > floor_ns) {
      solo_left_ = backoff_;
      backoff_ = std::min(2 * backoff_, most);
      calm_runs_ = 0;
    } else if (++calm_runs_ >= calm) {
      backoff_ = std::max(backoff_ / 2, first);
      calm_runs_ = 0;
    }
  }
  long backoff() const noexcept { return backoff_; }
  // Runs that went on the caller alone so far.
  long solo_runs() const noexcept { return solo_runs_; }

 private:
  long backoff_ = first, solo_left_ = 0, calm_runs_ = 0, solo_runs_ = 0;
};

class team {
 public:
  explicit team(int members = 1);
  ~team();
  team(const team&) = delete;
  team& operator=(const team&) = delete;

  int size() const noexcept { return int(workers_.size()) + 1; }
  // run_some's record of members that held it up (not thread-safe: read between runs).
  const straggler_guard& stragglers() const noexcept { return guard_; }

  // Runs f(member) for member = 0 .. size()-1, member 0 on the calling thread, and returns when
  // all have finished. f must not throw. Allocates nothing.
  template <class F>
  void run(F&& f) {
    if (workers_.empty()) return f(0);
    run_erased(
        &f, [](void* p, int m) { (*static_cast<std::remove_reference_t<F>*>(p))(m); }, true);
  }
  // Runs f(member) on the caller (member 0) and on each other member that starts before the
  // caller's f returns; returns when those have finished. After a member held up the caller
  // (straggler_guard), the next runs call f(0) alone. Allocates nothing.
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
  straggler_guard guard_;  // run_some's; only the caller touches it
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
