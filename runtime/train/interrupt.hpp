// SIGINT and SIGTERM as a request to stop training cleanly. While a stop_on_signals lives, the
// first of them only sets a flag: fit() finishes the step it is in, writes its checkpoint
// (atomically, as --checkpoint-every does) and returns with fit_result::stopped, stop_signal()
// saying which signal (a single process only: data-parallel ranks would see it at different
// steps, so they leave stopping to mpirun); the standard command line then says where to resume
// and exits 128 + the signal (130, 143). A second one
// ends the process at once (_exit, 128 + the signal) without touching any file: the last
// checkpoint written stays the good one.
#pragma once

namespace kiln::rt {

class stop_on_signals {
 public:
  stop_on_signals();   // installs the handlers (and clears an earlier request)
  ~stop_on_signals();  // puts the previous handlers back
  stop_on_signals(const stop_on_signals&) = delete;
  stop_on_signals& operator=(const stop_on_signals&) = delete;
};

// The signal that asked to stop (SIGINT or SIGTERM), or 0.
int stop_signal() noexcept;

// "SIGINT", "SIGTERM".
const char* signal_name(int sig) noexcept;

}  // namespace kiln::rt
