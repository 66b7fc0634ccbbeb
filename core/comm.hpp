// The ranks of a job started by mpirun, as kiln uses them: rank and size, in-place sums
// (allreduce), broadcasts from one rank, gathers of one value per rank, subgroups. MPI stays in
// comm/mpi.cpp: without MPI (not installed when kiln was built: comm/single.cpp; or a program not
// started by mpirun) there is one rank and every collective is a no-op.
//
// Failures never hang a job. An MPI error becomes a kiln::error naming the operation. A rank
// that dies is seen by mpirun, which ends the job ("mpirun noticed that process rank 1 ...
// exited on signal 9"). A rank that stops answering (hangs, or died where mpirun cannot see it)
// is caught by a watchdog (comm/watchdog.hpp): when one collective has waited longer than timeout()
// seconds, the rank prints which collective and how long, and exits with status 1, which makes
// mpirun end the job.
#pragma once

#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace kiln::rt {

class comm {
 public:
  // True when kiln was built with MPI.
  static bool available() noexcept;
  // True when this process was started by mpirun (or another MPI launcher) with more than one
  // rank; readable before MPI is initialized.
  static bool launched() noexcept;

  // Every rank of the job (MPI_COMM_WORLD). The first call initializes MPI (once per process;
  // it is finalized at exit); without MPI, or when not launched by mpirun, a single rank.
  static comm& world();
  // A process alone: one rank, never MPI.
  static const comm& single();

  // A single rank, no MPI: what a model trained alone uses.
  comm();
  ~comm();
  comm(comm&&) noexcept;
  comm& operator=(comm&&) noexcept;

  int rank() const noexcept { return rank_; }
  int size() const noexcept { return size_; }
  bool distributed() const noexcept { return size_ > 1; }

  // The ranks whose `color` is the same, ordered as here (MPI_Comm_split). Collective.
  comm split(int color) const;

  // In-place sums over all ranks; every rank gets the result. `what` names the data in errors
  // and in the watchdog's message. The order in which ranks' values are added is MPI's: the
  // same on every rank for a given size, not necessarily left to right.
  void sum(std::span<float> v, const char* what) const;
  void sum(std::span<double> v, const char* what) const;
  void sum(std::span<std::int64_t> v, const char* what) const;
  // The same sum, started now and finished by finish(): the caller goes on computing (and calls
  // progress() now and then, which lets MPI move the data) while the values travel. `v` must stay
  // untouched until finish(). Sums started in the same order on every rank.
  void start_sum(std::span<float> v, const char* what) const;
  void progress(const char* what) const;
  void finish(const char* what) const;
  // Rank `root`'s values to every rank.
  void broadcast(std::span<float> v, int root, const char* what) const;
  void broadcast(std::span<std::uint8_t> v, int root, const char* what) const;
  void broadcast(std::span<std::uint64_t> v, int root, const char* what) const;
  // One value from every rank, in rank order, on every rank.
  std::vector<std::uint64_t> gather(std::uint64_t v, const char* what) const;
  void barrier(const char* what) const;

  // Runs f on `root` and shares how it went: when f throws on root, every rank throws a
  // kiln::error with the same message, so that no rank is left waiting in a collective for a
  // rank that gave up. (For work only one rank does: reading a checkpoint, writing files.)
  // Root rethrows its own exception; the others throw kiln::error.
  template <class F>
  void on_root(int root, F&& f, const char* what) const {
    std::string failure;
    std::exception_ptr thrown;
    if (rank_ == root) try {
        f();
      } catch (const std::exception& e) {
        thrown = std::current_exception();
        failure = *e.what() ? e.what() : "failed";
      }
    if (share_failure(failure, root, what) && thrown) std::rethrow_exception(thrown);
  }

  // Seconds a collective may wait before the watchdog ends the process (all communicators of the
  // process). Default 600, or $KILN_MPI_TIMEOUT.
  static void set_timeout(double seconds);
  static double timeout() noexcept;

  // Seconds this process has spent in collectives so far (waiting for the other ranks included),
  // over every communicator: what data-parallel training pays for exchanging.
  static double seconds() noexcept;

  // Ends every rank of the job (MPI_Abort) after printing "error: rank R of N: <message>" on
  // stderr. For a rank that cannot go on while the others may be waiting for it.
  [[noreturn]] void abort(const std::string& message, int code = 1) const;

  // "rank R of N on HOST (pid P)": for logs.
  std::string describe() const;

 public:
  struct handle;  // opaque: the MPI communicator (comm/mpi.cpp)

 private:
  comm(std::unique_ptr<handle> h, int rank, int size);
  // Broadcasts root's failure message (empty: none); throws it on the other ranks. True when
  // root failed.
  bool share_failure(std::string& failure, int root, const char* what) const;

  std::unique_ptr<handle> h_;  // the MPI communicator; null for a single rank
  int rank_ = 0, size_ = 1;
};

}  // namespace kiln::rt
