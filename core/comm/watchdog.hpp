// The watchdog of a job's collectives: a thread that ends the process when one collective has
// waited longer than comm::timeout() seconds for the other ranks (one of them died where
// mpirun cannot see it, or hangs), so that a job never hangs. The process has one thread doing
// MPI (the caller of comm::world()), so one slot is enough.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

namespace kiln::rt {

class watchdog {
 public:
  using clock = std::chrono::steady_clock;

  // Starts watching; `who` names this rank in the message ("rank 1 of 2 on host (pid 42)").
  void start(std::string who);
  void stop();
  // A collective `op` ("allreduce") of `what` ("the gradients") starts or ends. Both are cheap
  // (one atomic store): they run around every collective.
  void enter(const char* op, const char* what) {
    op_ = op, what_ = what;
    since_.store(clock::now().time_since_epoch().count(), std::memory_order_release);
  }
  void leave() { since_.store(0, std::memory_order_release); }

 private:
  void watch();

  std::string who_;
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool quit_ = false;
  std::atomic<clock::rep> since_{0};
  std::atomic<const char*> op_{""}, what_{""};
};

}  // namespace kiln::rt
