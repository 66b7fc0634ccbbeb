#include "kiln/core/comm.hpp"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <climits>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <thread>

#include "kiln/core/error.hpp"

#if KILN_HAVE_MPI
#include <mpi.h>
#endif

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
double collective_seconds = 0;  // written by the one thread that does MPI

}  // namespace

bool comm::launched() noexcept { return launched_size() > 1; }
void comm::set_timeout(double seconds) {
  if (!(seconds > 0))
    throw config_error("mpi timeout",
                       "must be a positive number of seconds, got " + std::to_string(seconds));
  timeout_seconds = seconds;
}
double comm::timeout() noexcept { return timeout_seconds; }
double comm::seconds() noexcept { return collective_seconds; }

const comm& comm::single() {
  static const comm alone;
  return alone;
}

comm::comm() = default;
comm::~comm() = default;
comm::comm(comm&&) noexcept = default;
comm& comm::operator=(comm&&) noexcept = default;

std::string comm::describe() const {
  return "rank " + std::to_string(rank_) + " of " + std::to_string(size_) + " on " + host_name() +
         " (pid " + std::to_string(getpid()) + ")";
}

#if KILN_HAVE_MPI

namespace {

using clock = std::chrono::steady_clock;

// Watches the collective in progress: the process has one thread doing MPI (the caller of
// world()), so one slot is enough. A collective that waits past the timeout ends the process.
class watchdog {
 public:
  void start(std::string who) {
    who_ = std::move(who);
    thread_ = std::thread([this] { watch(); });
  }
  void stop() {
    if (!thread_.joinable()) return;
    {
      std::lock_guard lock(mutex_);
      quit_ = true;
    }
    wake_.notify_one();
    thread_.join();
  }
  void enter(const char* op, const char* what) {
    op_ = op, what_ = what;
    since_.store(clock::now().time_since_epoch().count(), std::memory_order_release);
  }
  void leave() { since_.store(0, std::memory_order_release); }

 private:
  void watch() {
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

  std::string who_;
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool quit_ = false;
  std::atomic<clock::rep> since_{0};
  std::atomic<const char*> op_{""}, what_{""};
};

// MPI for the process: initialized by world(), finalized when the program ends.
struct session {
  MPI_Comm world = MPI_COMM_NULL;
  int rank = 0, size = 1;
  watchdog dog;

  session() {
    int ready = 0;
    MPI_Initialized(&ready);
    if (!ready) {
      // Only the thread that called world() uses MPI (the loader and team threads never do).
      int provided = 0;
      if (MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS)
        throw error("mpi: MPI_Init_thread failed");
      owned = true;
    }
    // A communicator of kiln's own, whose errors come back as codes instead of aborting.
    MPI_Comm_dup(MPI_COMM_WORLD, &world);
    MPI_Comm_set_errhandler(world, MPI_ERRORS_RETURN);
    MPI_Comm_rank(world, &rank);
    MPI_Comm_size(world, &size);
  }
  ~session() {
    dog.enter("MPI_Finalize", "the job");  // a barrier in Open MPI: watched too
    MPI_Comm_free(&world);
    int done = 0;
    MPI_Finalized(&done);
    if (owned && !done) MPI_Finalize();
    dog.leave();
    dog.stop();
  }
  bool owned = false;
};

session* the_session = nullptr;

}  // namespace

struct comm::handle {
  MPI_Comm c = MPI_COMM_NULL;
  bool owned = false;                // freed with the handle (split communicators)
  std::vector<MPI_Request> pending;  // start_sum()s not finished yet
  ~handle() {
    int done = 0;
    MPI_Finalized(&done);
    if (owned && !done) MPI_Comm_free(&c);
  }
};

bool comm::available() noexcept { return true; }

comm& comm::world() {
  static comm w = [] {
    if (!launched()) return comm();
    static session s;
    the_session = &s;
    auto h = std::make_unique<handle>();
    h->c = s.world;
    h->pending.reserve(256);  // a step's sums, one per layer: no allocation per step
    comm c(std::move(h), s.rank, s.size);
    if (s.size > 1) s.dog.start(c.describe());
    return c;
  }();
  return w;
}

comm::comm(std::unique_ptr<handle> h, int rank, int size)
    : h_(std::move(h)), rank_(rank), size_(size) {}

namespace {

// Runs one MPI call under the watchdog; an error code becomes a kiln::error.
template <class F>
void call(const char* op, const char* what, F&& f) {
  const auto start = clock::now();
  if (the_session) the_session->dog.enter(op, what);
  const int rc = f();
  if (the_session) the_session->dog.leave();
  collective_seconds += std::chrono::duration<double>(clock::now() - start).count();
  if (rc == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING] = {};
  int length = 0;
  MPI_Error_string(rc, text, &length);
  throw error(std::string("mpi ") + op + " of " + what + ": " + std::string(text, length) +
              " (has a rank died?)");
}

// MPI counts are ints: larger spans go in pieces.
template <class T, class F>
void in_pieces(std::span<T> v, F&& f) {
  constexpr std::size_t most = INT_MAX / 2;
  for (std::size_t at = 0; at < v.size(); at += most)
    f(v.data() + at, static_cast<int>(std::min(most, v.size() - at)));
}

template <class T>
void sum_of(const comm::handle* h, std::span<T> v, MPI_Datatype type, const char* what) {
  if (!h) return;
  in_pieces(v, [&](T* p, int n) {
    call("allreduce", what, [&] { return MPI_Allreduce(MPI_IN_PLACE, p, n, type, MPI_SUM, h->c); });
  });
}

template <class T>
void broadcast_of(const comm::handle* h, std::span<T> v, MPI_Datatype type, int root,
                  const char* what) {
  if (!h) return;
  in_pieces(v, [&](T* p, int n) {
    call("broadcast", what, [&] { return MPI_Bcast(p, n, type, root, h->c); });
  });
}

}  // namespace

comm comm::split(int color) const {
  if (!h_) return comm();
  if (color < 0) throw config_error("color", "must not be negative");
  MPI_Comm part = MPI_COMM_NULL;
  call("split", "the ranks", [&] { return MPI_Comm_split(h_->c, color, rank_, &part); });
  MPI_Comm_set_errhandler(part, MPI_ERRORS_RETURN);
  int rank = 0, size = 1;
  MPI_Comm_rank(part, &rank);
  MPI_Comm_size(part, &size);
  auto h = std::make_unique<handle>();
  h->c = part;
  h->owned = true;
  h->pending.reserve(256);
  return comm(std::move(h), rank, size);
}

void comm::sum(std::span<float> v, const char* what) const { sum_of(h_.get(), v, MPI_FLOAT, what); }

void comm::start_sum(std::span<float> v, const char* what) const {
  if (!h_) return;
  in_pieces(v, [&](float* p, int n) {
    h_->pending.emplace_back();
    call("allreduce", what, [&] {
      return MPI_Iallreduce(MPI_IN_PLACE, p, n, MPI_FLOAT, MPI_SUM, h_->c, &h_->pending.back());
    });
  });
}
void comm::progress(const char* what) const {
  if (!h_ || h_->pending.empty()) return;
  int done = 0;
  call("allreduce", what, [&] {
    return MPI_Testall(int(h_->pending.size()), h_->pending.data(), &done, MPI_STATUSES_IGNORE);
  });
  if (done) h_->pending.clear();
}
void comm::finish(const char* what) const {
  if (!h_ || h_->pending.empty()) return;
  call("allreduce", what, [&] {
    return MPI_Waitall(int(h_->pending.size()), h_->pending.data(), MPI_STATUSES_IGNORE);
  });
  h_->pending.clear();
}
void comm::sum(std::span<double> v, const char* what) const {
  sum_of(h_.get(), v, MPI_DOUBLE, what);
}
void comm::sum(std::span<std::int64_t> v, const char* what) const {
  sum_of(h_.get(), v, MPI_INT64_T, what);
}
void comm::broadcast(std::span<float> v, int root, const char* what) const {
  broadcast_of(h_.get(), v, MPI_FLOAT, root, what);
}
void comm::broadcast(std::span<std::uint8_t> v, int root, const char* what) const {
  broadcast_of(h_.get(), v, MPI_UINT8_T, root, what);
}
void comm::broadcast(std::span<std::uint64_t> v, int root, const char* what) const {
  broadcast_of(h_.get(), v, MPI_UINT64_T, root, what);
}

std::vector<std::uint64_t> comm::gather(std::uint64_t v, const char* what) const {
  std::vector<std::uint64_t> all(static_cast<std::size_t>(size_), v);
  if (!h_) return all;
  call("allgather", what,
       [&] { return MPI_Allgather(&v, 1, MPI_UINT64_T, all.data(), 1, MPI_UINT64_T, h_->c); });
  return all;
}

void comm::barrier(const char* what) const {
  if (h_) call("barrier", what, [&] { return MPI_Barrier(h_->c); });
}

void comm::abort(const std::string& message, int code) const {
  std::fprintf(stderr, "error: %s: %s\n", describe().c_str(), message.c_str());
  std::fflush(stderr);
  if (h_) MPI_Abort(h_->c, code);
  std::exit(code);
}

#else  // without MPI: one rank, nothing to exchange

struct comm::handle {};

bool comm::available() noexcept { return false; }
comm& comm::world() {
  static comm w;
  return w;
}
comm::comm(std::unique_ptr<handle> h, int rank, int size)
    : h_(std::move(h)), rank_(rank), size_(size) {}
comm comm::split(int color) const {
  if (color < 0) throw config_error("color", "must not be negative");
  return comm();
}
void comm::sum(std::span<float>, const char*) const {}
void comm::start_sum(std::span<float>, const char*) const {}
void comm::progress(const char*) const {}
void comm::finish(const char*) const {}
void comm::sum(std::span<double>, const char*) const {}
void comm::sum(std::span<std::int64_t>, const char*) const {}
void comm::broadcast(std::span<float>, int, const char*) const {}
void comm::broadcast(std::span<std::uint8_t>, int, const char*) const {}
void comm::broadcast(std::span<std::uint64_t>, int, const char*) const {}
std::vector<std::uint64_t> comm::gather(std::uint64_t v, const char*) const { return {v}; }
void comm::barrier(const char*) const {}
void comm::abort(const std::string& message, int code) const {
  std::fprintf(stderr, "error: %s\n", message.c_str());
  std::fflush(stderr);
  std::exit(code);
}

#endif

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
