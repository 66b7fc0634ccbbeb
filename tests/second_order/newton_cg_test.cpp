// Newton-CG (Hessian-free, finite-difference Hessian-vector products, truncated CG, strong-Wolfe
// safeguard) on test functions: Rosenbrock's minimum, an ill-conditioned quadratic, damping, and
// a non-convex start where an unguarded Newton step heads for the saddle.
#define BOOST_TEST_MODULE second_order_newton_cg
#include <boost/test/unit_test.hpp>

#include <kiln/codegen/second_order/newton_cg.hpp>

#include <cmath>
#include <limits>

#include "../support/problems.hpp"

using namespace kiln::dsl;
namespace so = kiln::second_order;
namespace tt = boost::test_tools;

BOOST_AUTO_TEST_CASE(reaches_the_minimum_of_rosenbrock_within_100_iterations) {
  kiln::test::rosenbrock<double> f;
  so::newton_cg_solver<double> solver(
      {.max_iter = 100, .max_cg_iters = 2, .tolerance_grad = 1e-12, .tolerance_change = 1e-16}, 2);
  std::vector<double> losses{24.2};
  solver.observe([&](const so::iteration& i) { losses.push_back(i.loss); });
  const auto r = solver.step(f);
  BOOST_TEST(r.iterations <= 100);
  BOOST_TEST(std::abs(f.point()[0] - 1) < 1e-6);
  BOOST_TEST(std::abs(f.point()[1] - 1) < 1e-6);
  for (std::size_t i = 1; i < losses.size(); ++i) BOOST_TEST(losses[i] <= losses[i - 1]);
  BOOST_TEST_MESSAGE("rosenbrock: " << r.iterations << " iterations, " << r.evaluations
                                    << " evaluations");
}

// CG solves the Newton system of a quadratic to its forcing term (the finite differences are
// exact for a linear gradient up to rounding, ~1e-6 relative in double), and the line search
// accepts t = 1: the minimum in a few iterations.
BOOST_AUTO_TEST_CASE(solves_a_quadratic_in_a_few_iterations) {
  auto f = kiln::test::conditioned_quadratic<double>(20, 100);
  so::newton_cg_solver<double> solver({.max_iter = 20,
                                       .max_cg_iters = 40,
                                       .cg_tolerance = 1e-4,
                                       .tolerance_grad = 1e-10,
                                       .tolerance_change = 0},
                                      20);
  std::vector<double> steps;
  solver.observe([&](const so::iteration& i) { steps.push_back(i.step); });
  const auto r = solver.step(f);
  BOOST_TEST_MESSAGE("quadratic: " << r.iterations << " iterations, " << r.evaluations
                                   << " evaluations");
  BOOST_TEST(r.iterations <= 4);
  BOOST_TEST(steps.front() == 1.0);  // the Newton step itself
  BOOST_TEST((r.reason == so::stop::gradient_small));
  const auto x = f.solution();
  for (std::size_t i = 0; i < x.size(); ++i) BOOST_TEST(f.point()[i] == x[i], tt::tolerance(1e-7));
}

// Damping λ makes CG solve (H + λI)·p = −g: the first step of a quadratic is exactly that.
BOOST_AUTO_TEST_CASE(damping_shifts_the_hessian) {
  auto f = kiln::test::conditioned_quadratic<double>(6, 10);
  const double damping = 5;
  so::newton_cg_solver<double> solver({.max_iter = 1,
                                       .max_cg_iters = 6,
                                       .cg_tolerance = 1e-9,
                                       .damping = damping,
                                       .tolerance_change = 0},
                                      6);
  double step = 0;
  solver.observe([&](const so::iteration& i) { step = i.step; });
  solver.step(f);
  BOOST_TEST(step == 1.0);  // the damped Newton step satisfies the Wolfe conditions here
  std::vector<double> shifted = f.matrix();
  for (std::size_t i = 0; i < 6; ++i) shifted[i * 7] += damping;
  // From x = 0, g = −b: p solves (A + λI)·p = b.
  kiln::test::quadratic<double> damped(shifted, f.rhs(), std::vector<double>(6, 0));
  const auto p = damped.solution();
  for (std::size_t i = 0; i < 6; ++i) BOOST_TEST(f.point()[i] == p[i], tt::tolerance(1e-6));
}

// x⁴/4 − x²/2 + y²/2 from (0.1, 0): the Hessian's x entry is 3·0.01 − 1 < 0. Newton's step
// x − f'(x)/f''(x) = −0.002 climbs towards the local maximum at x = 0 (f rises from −0.005 to
// about 0). CG meets the negative curvature at once and falls back to −g, and the line search
// keeps f decreasing: the solver reaches the minimum at x = 1.
BOOST_AUTO_TEST_CASE(a_non_convex_start_needs_the_safeguard) {
  const double x0 = 0.1;
  const double newton = x0 - (x0 * x0 * x0 - x0) / (3 * x0 * x0 - 1);
  const auto well = [](double x) { return x * x * x * x / 4 - x * x / 2; };
  BOOST_TEST(std::abs(newton) < 0.01);
  BOOST_TEST(well(newton) > well(x0));  // the unguarded Newton step increases f

  kiln::test::double_well<double> f({x0, 0});
  so::newton_cg_solver<double> solver(
      {.max_iter = 50, .tolerance_grad = 1e-12, .tolerance_change = 0}, 2);
  std::vector<double> losses{well(x0)};
  std::vector<bool> negative;
  solver.observe([&](const so::iteration& i) {
    losses.push_back(i.loss);
    negative.push_back(solver.negative_curvature());
  });
  solver.step(f);
  BOOST_TEST(negative.front());
  for (std::size_t i = 1; i < losses.size(); ++i) BOOST_TEST(losses[i] <= losses[i - 1]);
  BOOST_TEST(f.point()[0] == 1.0, tt::tolerance(1e-8));
  BOOST_TEST(std::abs(f.point()[1]) < 1e-8);
  BOOST_TEST(losses.back() == -0.25, tt::tolerance(1e-12));
}

// In float, the same problems converge to float precision.
BOOST_AUTO_TEST_CASE(works_in_float) {
  kiln::test::rosenbrock<float> f;
  so::newton_cg_solver<float> solver({.max_iter = 100, .max_cg_iters = 2}, 2);
  solver.step(f);
  BOOST_TEST(std::abs(f.point()[0] - 1) < 1e-3);
  BOOST_TEST(std::abs(f.point()[1] - 1) < 2e-3);
}

BOOST_AUTO_TEST_CASE(the_difference_step_scales_with_x_and_v) {
  const double root_eps = std::sqrt(double(std::numeric_limits<float>::epsilon()));
  BOOST_TEST(so::newton_cg_solver<float>::difference_step(0, 1) == root_eps);
  BOOST_TEST(so::newton_cg_solver<float>::difference_step(3, 2) == root_eps * 4 / 2);
  BOOST_TEST(so::newton_cg_solver<double>::difference_step(0, 1) ==
             std::sqrt(std::numeric_limits<double>::epsilon()));
}

BOOST_AUTO_TEST_CASE(stops_at_a_minimum_and_checks_its_options) {
  kiln::test::rosenbrock<double> f({1, 1});
  so::newton_cg_solver<double> solver({}, 2);
  const auto r = solver.step(f);
  BOOST_TEST(r.iterations == 0);
  BOOST_TEST((r.reason == so::stop::gradient_small));
  BOOST_CHECK_EXCEPTION(so::newton_cg_solver<double>(newton_cg{.damping = -1}, 2),
                        kiln::config_error, [](const kiln::config_error& e) {
                          return std::string(e.what()) == "newton_cg: .damping must be >= 0";
                        });
  BOOST_CHECK_THROW(so::newton_cg_solver<float>(newton_cg{.cg_tolerance = 1}, 2),
                    kiln::config_error);
}
