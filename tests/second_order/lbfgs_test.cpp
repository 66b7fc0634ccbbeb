// L-BFGS (PyTorch 1.13's torch.optim.LBFGS semantics) on test functions: PyTorch's own
// trajectories evaluation by evaluation (tests/data/lbfgs_pytorch.json, made by
// tests/data/make_lbfgs_fixture.py), Rosenbrock's minimum, an ill-conditioned quadratic, the
// history and the stopping rules.
#define BOOST_TEST_MODULE second_order_lbfgs
#include <boost/test/unit_test.hpp>

#include <kiln/codegen/second_order/lbfgs.hpp>
#include <nlohmann/json.hpp>

#include <cmath>
#include <fstream>
#include <memory>

#include "../support/problems.hpp"

using namespace kiln::dsl;
namespace so = kiln::second_order;
namespace tt = boost::test_tools;
using json = nlohmann::json;

namespace {

json fixture() {
  std::ifstream in(KILN_FIXTURES "/lbfgs_pytorch.json");
  BOOST_REQUIRE_MESSAGE(in, "cannot open " KILN_FIXTURES "/lbfgs_pytorch.json");
  return json::parse(in);
}

std::unique_ptr<kiln::test::recorded<double>> problem_of(const json& all, const json& c) {
  if (c["problem"] == "rosenbrock") return std::make_unique<kiln::test::rosenbrock<double>>();
  std::vector<double> a;
  for (const auto& row : all["quadratic"]["A"])
    for (double v : row) a.push_back(v);
  const auto b = all["quadratic"]["b"].get<std::vector<double>>();
  return std::make_unique<kiln::test::quadratic<double>>(a, b, std::vector<double>(b.size(), 0));
}

double distance(const std::vector<double>& x, std::vector<double> target) {
  double d = 0;
  for (std::size_t i = 0; i < x.size(); ++i) d = std::max(d, std::abs(x[i] - target[i]));
  return d;
}

}  // namespace

// Every point PyTorch evaluated, in order, with its loss; the values each step returned; the
// final point and PyTorch's counters. Both run in float64; the only differences are the order
// of a few floating-point sums, so they agree to ~1e-12 along a whole run.
BOOST_AUTO_TEST_CASE(evaluates_where_pytorch_evaluates) {
  const json all = fixture();
  BOOST_TEST(all["cases"].size() == 5u);
  for (const json& c : all["cases"]) {
    BOOST_TEST_CONTEXT(c["name"].get<std::string>()) {
      const json& o = c["options"];
      const lbfgs options{.lr = o["lr"],
                          .max_iter = o["max_iter"],
                          .history = o["history_size"],
                          .line_search = o["line_search"] == "strong_wolfe"
                                             ? line_search::strong_wolfe
                                             : line_search::none};
      auto f = problem_of(all, c);
      so::lbfgs_solver<double> solver(options, f->point().size());
      for (int s = 0; s < c["steps"].get<int>(); ++s)
        BOOST_TEST(solver.step(*f).start_loss == c["step_returns"][s].get<double>(),
                   tt::tolerance(1e-9));
      const json& expected = c["evaluations"];
      BOOST_REQUIRE_EQUAL(f->points.size(), expected.size());
      double worst = 0;
      for (std::size_t e = 0; e < expected.size(); ++e) {
        const auto x = expected[e]["x"].get<std::vector<double>>();
        worst = std::max(worst, distance(f->points[e], x) / (1 + distance(x, {0, 0, 0, 0, 0, 0})));
        BOOST_TEST(f->losses[e] == expected[e]["loss"].get<double>(), tt::tolerance(1e-7));
      }
      BOOST_TEST(worst < 1e-9);
      BOOST_TEST_MESSAGE(c["name"].get<std::string>()
                         << ": " << expected.size() << " evaluations, largest deviation " << worst);
      BOOST_TEST(distance(std::vector<double>(f->point().begin(), f->point().end()),
                          c["final_x"].get<std::vector<double>>()) < 1e-9);
      BOOST_TEST(solver.iterations() == c["n_iter"].get<long>());
      BOOST_TEST(solver.evaluations() == c["func_evals"].get<long>());
    }
  }
}

BOOST_AUTO_TEST_CASE(reaches_the_minimum_of_rosenbrock_within_100_iterations) {
  kiln::test::rosenbrock<double> f;
  so::lbfgs_solver<double> solver({.max_iter = 100,
                                   .max_eval = 1000,
                                   .tolerance_grad = 1e-12,
                                   .tolerance_change = 1e-16,
                                   .history = 10,
                                   .line_search = line_search::strong_wolfe},
                                  2);
  const auto r = solver.step(f);
  BOOST_TEST(r.iterations <= 100);
  BOOST_TEST(std::abs(f.point()[0] - 1) < 1e-6);
  BOOST_TEST(std::abs(f.point()[1] - 1) < 1e-6);
  BOOST_TEST(r.loss < 1e-12);
  BOOST_TEST_MESSAGE("rosenbrock: " << r.iterations << " iterations, " << r.evaluations
                                    << " evaluations");
}

BOOST_AUTO_TEST_CASE(reaches_rosenbrock_in_float_to_float_precision) {
  kiln::test::rosenbrock<float> f;
  so::lbfgs_solver<float> solver(
      {.max_iter = 100, .history = 10, .line_search = line_search::strong_wolfe}, 2);
  solver.step(f);
  // In float, (x₁ − x₀²) is only known to ~6e-8 near (1, 1): the flat valley floor holds x to
  // about 1e-4.
  BOOST_TEST(std::abs(f.point()[0] - 1) < 1e-3);
  BOOST_TEST(std::abs(f.point()[1] - 1) < 2e-3);
}

// Condition number 100 in 50 unknowns. PyTorch's L-BFGS needs ~800 fixed steps or ~150
// line-searched iterations here (tests/data/make_lbfgs_fixture.py's quadratic is the
// step-for-step comparison); both reach the solution.
BOOST_AUTO_TEST_CASE(solves_an_ill_conditioned_quadratic) {
  for (const auto search : {line_search::none, line_search::strong_wolfe}) {
    BOOST_TEST_CONTEXT("line search " << int(search)) {
      auto f = kiln::test::conditioned_quadratic<double>(50, 100);
      so::lbfgs_solver<double> solver({.max_iter = 1000,
                                       .max_eval = 5000,
                                       .tolerance_grad = 1e-11,
                                       .tolerance_change = 0,
                                       .history = 10,
                                       .line_search = search},
                                      50);
      const auto r = solver.step(f);
      BOOST_TEST(r.iterations < 1000);
      BOOST_TEST(r.loss <= r.start_loss);
      const auto x = f.solution();
      BOOST_TEST(distance(std::vector<double>(f.point().begin(), f.point().end()), x) < 1e-6);
    }
  }
}

BOOST_AUTO_TEST_CASE(keeps_at_most_history_pairs) {
  auto f = kiln::test::conditioned_quadratic<double>(20, 100);
  so::lbfgs_solver<double> solver({.max_iter = 15,
                                   .max_eval = 100,
                                   .tolerance_grad = 0,
                                   .tolerance_change = 0,
                                   .history = 4,
                                   .line_search = line_search::strong_wolfe},
                                  20);
  std::vector<std::size_t> pairs;
  solver.observe([&](const so::iteration&) { pairs.push_back(solver.pairs()); });
  solver.step(f);
  BOOST_TEST(pairs.size() == 15u);
  BOOST_TEST(pairs.front() == 0u);  // the first iteration is steepest descent
  for (std::size_t i = 0; i < pairs.size(); ++i)
    BOOST_TEST(pairs[i] == std::min<std::size_t>(i, 4));
}

// A linear function has no curvature: y = 0, so yᵀs = 0 ≤ 1e-10 and no pair is kept.
BOOST_AUTO_TEST_CASE(drops_pairs_without_curvature) {
  struct linear final : kiln::test::recorded<double> {
    linear() : recorded({0, 0}) {}
    double value(const double* x, double* g) const override {
      g[0] = 1, g[1] = -2;
      return x[0] - 2 * x[1];
    }
  } f;
  so::lbfgs_solver<double> solver({.max_iter = 5, .tolerance_change = 0}, 2);
  const auto r = solver.step(f);
  BOOST_TEST(solver.pairs() == 0u);
  BOOST_TEST(r.iterations == 5);
  BOOST_TEST(r.loss < r.start_loss);
}

BOOST_AUTO_TEST_CASE(stops_on_pytorchs_conditions) {
  {  // at a minimum: one evaluation, no iteration
    kiln::test::rosenbrock<double> f({1, 1});
    so::lbfgs_solver<double> solver({}, 2);
    const auto r = solver.step(f);
    BOOST_TEST(r.iterations == 0);
    BOOST_TEST(r.evaluations == 1);
    BOOST_TEST((r.reason == so::stop::gradient_small));
  }
  {  // max_eval
    kiln::test::rosenbrock<double> f;
    so::lbfgs_solver<double> solver({.max_iter = 100,
                                     .max_eval = 10,
                                     .tolerance_change = 0,
                                     .line_search = line_search::strong_wolfe},
                                    2);
    const auto r = solver.step(f);
    BOOST_TEST((r.reason == so::stop::evaluations));
    BOOST_TEST(r.evaluations >= 10);
    BOOST_TEST(r.evaluations < 10 + 25);  // one line search past the limit at most
  }
  {  // max_iter, and the default max_eval = max_iter·5/4
    BOOST_TEST((lbfgs{.max_iter = 20}.eval_limit() == 25));
    BOOST_TEST((lbfgs{.max_iter = 20, .max_eval = 7}.eval_limit() == 7));
    kiln::test::rosenbrock<double> f;
    so::lbfgs_solver<double> solver({.max_iter = 3, .max_eval = 100}, 2);
    const auto r = solver.step(f);
    BOOST_TEST(r.iterations == 3);
    BOOST_TEST((r.reason == so::stop::iterations));
    BOOST_TEST(std::isnan(r.loss) == false);
  }
}

BOOST_AUTO_TEST_CASE(reset_forgets_the_history) {
  kiln::test::rosenbrock<double> a, b;
  so::lbfgs_solver<double> solver({.max_iter = 4}, 2);
  solver.step(a);
  solver.reset();
  BOOST_TEST(solver.pairs() == 0u);
  BOOST_TEST(solver.iterations() == 0);
  so::lbfgs_solver<double> fresh({.max_iter = 4}, 2);
  kiln::test::rosenbrock<double> c;
  solver.step(b);
  fresh.step(c);
  BOOST_TEST(b.points == c.points);
}

BOOST_AUTO_TEST_CASE(options_are_checked_at_run_time) {
  BOOST_CHECK_EXCEPTION(so::lbfgs_solver<double>(lbfgs{.history = 0}, 2), kiln::config_error,
                        [](const kiln::config_error& e) {
                          return std::string(e.what()) == "lbfgs: .history must be at least 1";
                        });
  BOOST_CHECK_THROW(so::lbfgs_solver<float>(lbfgs{.lr = 0}, 2), kiln::config_error);
  kiln::test::rosenbrock<double> f;
  so::lbfgs_solver<double> wrong_size({}, 3);
  BOOST_CHECK_THROW(wrong_size.step(f), kiln::config_error);
}
