// comm without MPI (kiln built without it): one rank, nothing to exchange, every collective a
// no-op.
#include <cstdio>
#include <cstdlib>

#include "kiln/core/comm.hpp"
#include "kiln/core/error.hpp"

namespace kiln::rt {

struct comm::handle {};

bool comm::available() noexcept { return false; }
double comm::seconds() noexcept { return 0; }
comm::comm() = default;
comm::~comm() = default;
comm::comm(comm&&) noexcept = default;
comm& comm::operator=(comm&&) noexcept = default;

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

}  // namespace kiln::rt
