// What every implementation of comm shares: the launcher's environment, the timeout, the
// single-rank communicator, descriptions, and sharing a failure of one rank with the others.
// The collectives are in comm/mpi.cpp (built with MPI) or comm/single.cpp (without).
#include "kiln/core/comm.hpp"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>

#include "kiln/core/error.hpp"

namespace kiln::rt {
namespace {

std::string host_name() {
  char name[256] = {};
  if (gethostname(name, sizeof name - 1) != 0) return "?";
  return name;
}

// The launcher's rank count, from its environment (Open MPI, then PMI/PMIx launchers).
int launched_size() {
  for (const char* key : {"OMPI_COMM_WORLD_SIZE", "PMIX_SIZE", "PMI_SIZE"})
    if (const char* v = std::getenv(key)) return std::max(1, std::atoi(v));
  return 1;
}

double initial_timeout() {
  if (const char* v = std::getenv("KILN_MPI_TIMEOUT")) {
    char* end = nullptr;
    const double s = std::strtod(v, &end);
    if (end != v && *end == '\0' && s > 0) return s;
  }
  return 600;
}

std::atomic<double> timeout_seconds{initial_timeout()};

}  // namespace

bool comm::launched() noexcept { return launched_size() > 1; }
void comm::set_timeout(double seconds) {
  if (!(seconds > 0))
    throw config_error("mpi timeout",
                       "must be a positive number of seconds, got " + std::to_string(seconds));
  timeout_seconds = seconds;
}
double comm::timeout() noexcept { return timeout_seconds; }

const comm& comm::single() {
  static const comm alone;
  return alone;
}

std::string comm::describe() const {
  return "rank " + std::to_string(rank_) + " of " + std::to_string(size_) + " on " + host_name() +
         " (pid " + std::to_string(getpid()) + ")";
}

bool comm::share_failure(std::string& failure, int root, const char* what) const {
  if (!distributed()) return !failure.empty();
  std::uint64_t length = failure.size();
  broadcast(std::span(&length, 1), root, what);
  failure.resize(length);
  broadcast(std::span(reinterpret_cast<std::uint8_t*>(failure.data()), length), root, what);
  if (length > 0 && rank_ != root) throw error(failure + " (on rank " + std::to_string(root) + ")");
  return length > 0;
}

}  // namespace kiln::rt
