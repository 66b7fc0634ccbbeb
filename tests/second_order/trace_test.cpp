// optim_trace with the full-batch optimizers: `--optimizer lbfgs` (--history_size,
// --line_search none|strong_wolfe, ...) ends where PyTorch 1.13's LBFGS ends on Rosenbrock's
// function (tests/data/lbfgs_pytorch.json) on every Highway target; `--optimizer newton_cg`
// reaches the minimum; bad flags exit with code 2 and one line.
#define BOOST_TEST_MODULE second_order_trace
#include <boost/test/unit_test.hpp>

#include <kiln/codegen/dispatch.hpp>
#include <nlohmann/json.hpp>

#include "../support/program.hpp"

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

namespace {

using result = kiln::test::program_result;

result trace(const std::string& args) {
  return kiln::test::run_program(std::string(KILN_OPTIM_TRACE) + " " + args, "second_order_trace");
}

double distance(const std::vector<double>& a, const std::vector<double>& b) {
  double d = 0;
  for (std::size_t i = 0; i < a.size(); ++i) d = std::max(d, std::abs(a[i] - b[i]));
  return d;
}

}  // namespace

// The fixture's Rosenbrock cases, replayed through the command line in float64. The same solver
// as lbfgs_test.cpp's, which derives how far these runs may end from PyTorch's (the runs'
// amplification times the rounding of sums taken in another order, as any target's lanes take
// them): at most 7.6e-10 for the final points of these three cases. 1e-9 covers it.
BOOST_AUTO_TEST_CASE(lbfgs_ends_where_pytorch_ends_on_every_target) {
  std::ifstream in(KILN_FIXTURES "/lbfgs_pytorch.json");
  BOOST_REQUIRE(in);
  const auto fixture = nlohmann::json::parse(in);
  int cases = 0;
  for (const auto& c : fixture["cases"]) {
    if (c["problem"] != "rosenbrock") continue;
    const auto& o = c["options"];
    const int steps = c["steps"];
    const std::string args = "--optimizer lbfgs --problem rosenbrock --dtype float64 --steps " +
                             std::to_string(steps) + " --max_iter " +
                             std::to_string(o["max_iter"].get<int>()) + " --history_size " +
                             std::to_string(o["history_size"].get<int>()) + " --line_search " +
                             o["line_search"].get<std::string>();
    for (const std::int64_t target : kiln::codegen::available_targets()) {
      const std::string name = kiln::codegen::target_name(target);
      const result r = trace(args + " --target " + name);
      BOOST_TEST_REQUIRE(r.code == 0, args << ": " << (r.err.empty() ? "" : r.err[0]));
      BOOST_TEST_REQUIRE(r.out.size() == std::size_t(steps), args);
      const auto end = nlohmann::json::parse(r.out.back()).get<std::vector<double>>();
      BOOST_TEST(distance(end, c["final_x"]) < 1e-9, args << " on " << name);
      ++cases;
    }
  }
  BOOST_TEST(cases >= 3);
}

BOOST_AUTO_TEST_CASE(lbfgs_in_float32_and_on_the_quadratic) {
  const result r = trace(
      "--optimizer lbfgs --line_search strong_wolfe --history_size 10 --max_iter 100 --steps 1");
  BOOST_TEST_REQUIRE(r.code == 0);
  BOOST_TEST(distance(nlohmann::json::parse(r.out[0]), {1, 1}) < 2e-3);
  // ½xᵀAx − bᵀx: the minimizer A⁻¹b, the same in every step once there.
  const result q = trace(
      "--optimizer lbfgs --problem quadratic --dtype float64 --max_iter 100 --tolerance_grad "
      "1e-12 --tolerance_change 0 --steps 2");
  BOOST_TEST_REQUIRE(q.code == 0);
  const auto x = nlohmann::json::parse(q.out[1]).get<std::vector<double>>();
  const double A[4][4] = {{3, .5, 0, .2}, {.5, 2, .3, 0}, {0, .3, 1, -.4}, {.2, 0, -.4, .5}};
  const double b[4] = {1, -2, .5, .25};
  for (int i = 0; i < 4; ++i) {
    double ax = 0;
    for (int j = 0; j < 4; ++j) ax += A[i][j] * x[j];
    BOOST_TEST(std::abs(ax - b[i]) < 1e-10);
  }
}

BOOST_AUTO_TEST_CASE(newton_cg_reaches_the_minimum_of_rosenbrock) {
  const result r = trace(
      "--optimizer newton_cg --dtype float64 --max_iter 100 --max_cg_iters 2 --tolerance_grad "
      "1e-12 --tolerance_change 1e-16 --steps 1");
  BOOST_TEST_REQUIRE(r.code == 0, (r.err.empty() ? "" : r.err[0]));
  BOOST_TEST_REQUIRE(r.out.size() == 1u);
  BOOST_TEST(distance(nlohmann::json::parse(r.out[0]), {1, 1}) < 1e-6);
}

BOOST_AUTO_TEST_CASE(bad_flags_and_values_exit_2_with_one_line) {
  for (const char* args :
       {"--optimizer lbfgs --line_search wolfe", "--optimizer lbfgs --history_size 0",
        "--optimizer lbfgs --history_size 2.5", "--optimizer lbfgs --max_iter x",
        "--optimizer lbfgs --lr 0", "--optimizer lbfgs --momentum 0.9",
        "--optimizer newton_cg --lr 1", "--optimizer newton_cg --damping -1",
        "--optimizer newton_cg --cg_tolerance 1", "--optimizer newton_cg --line_search none"}) {
    const result r = trace(args);
    BOOST_TEST(r.code == 2, args);
    BOOST_TEST(r.out.empty(), args);
    BOOST_TEST_REQUIRE(r.err.size() == 1u, args);
    BOOST_TEST(r.err[0].starts_with("error: "), args << ": " << r.err[0]);
  }
  BOOST_TEST(trace("--optimizer lbfgs --history_size 0").err[0] ==
             "error: lbfgs: .history must be at least 1");
  BOOST_TEST(trace("--optimizer lbfgs --line_search wolfe").err[0] ==
             "error: --line_search: expected none or strong_wolfe, got 'wolfe'");
}
