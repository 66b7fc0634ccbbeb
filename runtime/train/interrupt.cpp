#include "kiln/runtime/train/interrupt.hpp"

#include <signal.h>
#include <unistd.h>

#include <atomic>

namespace kiln::rt {
namespace {

std::atomic<int> requested{0};
static_assert(std::atomic<int>::is_always_lock_free,
              "a signal handler may only touch lock-free atomics");

struct sigaction previous_int, previous_term;

extern "C" void on_signal(int sig) {
  // Async-signal-safe only: an atomic exchange, and _exit for the second signal.
  if (requested.exchange(sig) != 0) _exit(128 + sig);
}

}  // namespace

stop_on_signals::stop_on_signals() {
  requested.store(0);
  struct sigaction a {};
  a.sa_handler = on_signal;
  sigemptyset(&a.sa_mask);
  a.sa_flags = SA_RESTART;  // reads and writes in flight carry on; fit() polls the flag
  sigaction(SIGINT, &a, &previous_int);
  sigaction(SIGTERM, &a, &previous_term);
}

stop_on_signals::~stop_on_signals() {
  sigaction(SIGINT, &previous_int, nullptr);
  sigaction(SIGTERM, &previous_term, nullptr);
}

int stop_signal() noexcept { return requested.load(std::memory_order_relaxed); }

const char* signal_name(int sig) noexcept {
  return sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : "a signal";
}

}  // namespace kiln::rt
