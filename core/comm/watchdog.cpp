#include "kiln/core/comm/watchdog.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "kiln/core/comm.hpp"

namespace kiln::rt {

void watchdog::start(std::string who) {
  who_ = std::move(who);
  thread_ = std::thread([this] { watch(); });
}

void watchdog::stop() {
  if (!thread_.joinable()) return;
  {
    std::lock_guard lock(mutex_);
    quit_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

void watchdog::watch() {
  std::unique_lock lock(mutex_);
  while (!quit_) {
    // Checks a few times per timeout, at least once a second: a late verdict by that much.
    const double period = std::min(1.0, comm::timeout() / 4);
    wake_.wait_for(lock, std::chrono::duration<double>(period));
    const auto since = since_.load(std::memory_order_acquire);
    if (quit_ || since == 0) continue;
    const double waited =
        std::chrono::duration<double>(clock::now().time_since_epoch() - clock::duration(since))
            .count();
    if (waited < comm::timeout()) continue;
    std::fprintf(stderr,
                 "error: %s: %s of %s has waited %.0f s for the other ranks; one of them has "
                 "died or hangs, so this rank stops (mpirun then ends the job; the last "
                 "checkpoint stays valid for --resume)\n",
                 who_.c_str(), op_.load(), what_.load(), waited);
    std::fflush(stderr);
    std::_Exit(1);
  }
}

}  // namespace kiln::rt
