// comm over MPI (built when MPI is found): the session (MPI_Init_thread at the first
// comm::world(), MPI_Finalize at exit), kiln's own communicator whose errors come back as codes,
// and every collective run under the watchdog (watchdog.hpp).
#include <mpi.h>

#include <algorithm>
#include <chrono>
#include <climits>
#include <cstdio>
#include <cstdlib>

#include "kiln/core/comm.hpp"
#include "kiln/core/comm/watchdog.hpp"
#include "kiln/core/error.hpp"

namespace kiln::rt {

namespace {

using clock = std::chrono::steady_clock;
double collective_seconds = 0;  // written by the one thread that does MPI

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
double comm::seconds() noexcept { return collective_seconds; }

comm::comm() = default;
comm::~comm() = default;
comm::comm(comm&&) noexcept = default;
comm& comm::operator=(comm&&) noexcept = default;

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

}  // namespace kiln::rt
