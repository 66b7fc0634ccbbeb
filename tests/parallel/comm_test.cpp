// The communicator under mpirun -np 2: sums, broadcasts, gathers, subgroups, and a failure on
// one rank reaching the other instead of leaving it waiting.
#define BOOST_TEST_MODULE parallel_comm
#include <boost/test/unit_test.hpp>

#include <cstdint>
#include <numeric>
#include <vector>

#include "kiln/core/error.hpp"
#include "kiln/core/comm.hpp"

using kiln::rt::comm;

namespace {
const comm& world() {
  const comm& w = comm::world();
  BOOST_TEST_REQUIRE(w.size() == 2, "run under mpirun -np 2 (size " << w.size() << ")");
  return w;
}
}  // namespace

BOOST_AUTO_TEST_CASE(ranks) {
  BOOST_TEST(comm::available());
  BOOST_TEST(comm::launched());
  const comm& w = world();
  BOOST_TEST(w.distributed());
  BOOST_TEST(w.describe().find("rank " + std::to_string(w.rank()) + " of 2 on ") == 0);
  const auto all = w.gather(100 + w.rank(), "ranks");
  BOOST_TEST(all == (std::vector<std::uint64_t>{100, 101}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(sums) {
  const comm& w = world();
  std::vector<float> f(1000);
  std::iota(f.begin(), f.end(), float(w.rank()));
  w.sum(std::span(f), "floats");
  for (std::size_t i = 0; i < f.size(); ++i) BOOST_TEST(f[i] == float(2 * i + 1));
  std::vector<double> d{0.25 * (w.rank() + 1)};
  w.sum(std::span(d), "doubles");
  BOOST_TEST(d[0] == 0.75);
  std::vector<std::int64_t> n{std::int64_t(1) << 40, w.rank() == 0 ? -5 : 7};
  w.sum(std::span(n), "counts");
  BOOST_TEST(n[0] == std::int64_t(1) << 41);
  BOOST_TEST(n[1] == 2);
}

BOOST_AUTO_TEST_CASE(broadcasts) {
  const comm& w = world();
  std::vector<float> f(5, float(w.rank()));
  w.broadcast(std::span(f), 1, "floats");
  for (float v : f) BOOST_TEST(v == 1.0f);
  std::vector<std::uint8_t> b{std::uint8_t(w.rank() + 7)};
  w.broadcast(std::span(b), 0, "bytes");
  BOOST_TEST(b[0] == 7);
  std::vector<std::uint64_t> u{w.rank() == 0 ? ~std::uint64_t(0) : 0};
  w.broadcast(std::span(u), 0, "words");
  BOOST_TEST(u[0] == ~std::uint64_t(0));
}

BOOST_AUTO_TEST_CASE(subgroups) {
  const comm& w = world();
  const comm alone = w.split(w.rank());  // two groups of one
  BOOST_TEST(alone.size() == 1);
  BOOST_TEST(alone.rank() == 0);
  std::vector<float> f{float(w.rank())};
  alone.sum(std::span(f), "a group of one");
  BOOST_TEST(f[0] == float(w.rank()));
  const comm both = w.split(0);
  BOOST_TEST(both.size() == 2);
  BOOST_TEST(both.rank() == w.rank());
  both.sum(std::span(f), "both");
  BOOST_TEST(f[0] == 1.0f);
}

BOOST_AUTO_TEST_CASE(failure_on_root_reaches_every_rank) {
  const comm& w = world();
  try {
    w.on_root(
        1, [] { throw kiln::file_error("x.safetensors", "truncated"); }, "a test");
    BOOST_ERROR("no exception");
  } catch (const kiln::file_error& e) {  // root: its own exception
    BOOST_TEST(w.rank() == 1);
    BOOST_TEST(std::string(e.what()) == "x.safetensors: truncated");
  } catch (const kiln::error& e) {  // the others: the same message
    BOOST_TEST(w.rank() == 0);
    BOOST_TEST(std::string(e.what()) == "x.safetensors: truncated (on rank 1)");
  }
  int ran = 0;
  w.on_root(
      0, [&] { ++ran; }, "a test");  // success: nobody throws
  BOOST_TEST(ran == (w.rank() == 0 ? 1 : 0));
  w.barrier("the end");
}

BOOST_AUTO_TEST_CASE(timeout_must_be_positive) {
  BOOST_CHECK_THROW(comm::set_timeout(0), kiln::config_error);
  BOOST_CHECK_THROW(comm::set_timeout(-1), kiln::config_error);
  const double before = comm::timeout();
  comm::set_timeout(42);
  BOOST_TEST(comm::timeout() == 42);
  comm::set_timeout(before);
}

BOOST_AUTO_TEST_CASE(single_rank_without_mpi) {
  comm one;  // what a model trained alone uses
  BOOST_TEST(one.size() == 1);
  std::vector<float> f{3};
  one.sum(std::span(f), "nothing");
  BOOST_TEST(f[0] == 3.0f);
  BOOST_TEST(one.gather(9, "one") == (std::vector<std::uint64_t>{9}),
             boost::test_tools::per_element());
}
