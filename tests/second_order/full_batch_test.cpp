// The generated trainer in full-batch mode (plans with lbfgs or newton_cg): the objective over a
// dataset in chunks, with the plan's penalties; fit taking one solver step per epoch; learning a
// separable problem and a least-squares fit; determinism; no allocation in a step; a non-convex
// network whose loss never rises; the subset a user trains on.
#define BOOST_TEST_MODULE second_order_full_batch
#include <boost/test/unit_test.hpp>

#include <kiln/kiln.hpp>
#include <kiln/run.hpp>
#include <kiln/runtime/data/subset.hpp>

#include <algorithm>
#include <cmath>
#include <vector>

#include "../support/data.hpp"
#include "../support/gradcheck.hpp"
#include "../support/allocations.hpp"

using namespace kiln::dsl;
namespace so = kiln::second_order;
namespace tt = boost::test_tools;

namespace {

// Two classes in the plane split by the line x + y/2 = 0, with a margin of 0.1 around it.
kiln::rt::dataset separable(int n) {
  kiln::rt::dataset d;
  d.name = "separable";
  d.sample_shape = {2};
  d.classes = 2;
  kiln::rt::rng r(11, 0);
  while (int(d.labels.size()) < n) {
    const float x = r.uniform(-1, 1), y = r.uniform(-1, 1), side = x + y / 2;
    if (std::abs(side) < 0.1f) continue;
    d.x.insert(d.x.end(), {x, y});
    d.labels.push_back(side > 0);
  }
  return d;
}

constexpr auto logistic = input<2> | dense{.units = 2} | softmax_cross_entropy{};
constexpr auto lbfgs_plan =
    training_plan{.optimizer = lbfgs{.history = 10, .line_search = line_search::strong_wolfe},
                  .epochs = 5,
                  .batch = 64};
constexpr auto newton_plan =
    training_plan{.optimizer = newton_cg{.max_iter = 5}, .epochs = 5, .batch = 64};

constexpr auto mlp = input<1, 4, 4> | flatten{} | dense{.units = 8} | tanh_{} | dense{.units = 3} |
                     softmax_cross_entropy{};

kiln::rt::fit_options quiet(int epochs, int batch) {
  return {.epochs = epochs, .batch = batch, .seed = 0, .progress = false};
}

}  // namespace

BOOST_AUTO_TEST_CASE(a_second_order_plan_selects_full_batch_mode) {
  static_assert(kiln::trainer<logistic, lbfgs_plan>::full_batch);
  static_assert(kiln::trainer<logistic, newton_plan>::full_batch);
  // kiln_add_trainer's main() works for them too (fit takes the full-batch path).
  [[maybe_unused]] int (*main_of_a_trainer)(int, char**) = &kiln::run<logistic, lbfgs_plan>;
  auto t = kiln::compile<logistic, lbfgs_plan>();
  BOOST_TEST(t.info().full_batch);
  BOOST_TEST(t.current_lr() == 1.0);
  BOOST_TEST(std::isnan(kiln::compile<logistic, newton_plan>().current_lr()));

  constexpr auto sgd_plan = training_plan{.optimizer = sgd{.lr = 0.1}};
  static_assert(!kiln::trainer<logistic, sgd_plan>::full_batch);
  auto s = kiln::compile<logistic, sgd_plan>();
  BOOST_TEST(!s.info().full_batch);
  const auto data = separable(8);
  const auto b = kiln::test::first_batch(data, 8);
  BOOST_CHECK_THROW(s.full_batch_step({&b, 1}), kiln::config_error);
}

BOOST_AUTO_TEST_CASE(logistic_regression_separates_separable_data) {
  const auto data = separable(400);
  {
    auto t = kiln::compile<logistic, lbfgs_plan>();
    const auto r = t.fit(data, &data, quiet(5, 64));
    BOOST_TEST(r.test.accuracy == 1.0);
    BOOST_TEST(r.epochs.back().train_loss < r.epochs.front().train_loss);
  }
  {
    auto t = kiln::compile<logistic, newton_plan>();
    const auto r = t.fit(data, &data, quiet(5, 64));
    BOOST_TEST(r.test.accuracy == 1.0);
    BOOST_TEST(r.epochs.back().train_loss < r.epochs.front().train_loss);
  }
}

// What may change between two evaluations of `mlp` at the same weights on inputs in [-1, 1] whose
// GEMMs sum in different orders (OpenBLAS picks its kernel and blocking by the row count: 100
// rows against 30 and 10). Everything else runs the same code on every sample. A float32 dot
// product of n terms, in any order, is within γ(n)·Σ|terms| of the exact one (γ(n) = n·u/(1-n·u),
// u = 2^-24; Higham, Accuracy and Stability of Numerical Algorithms, 3.1): two orders within
// 2γ(n)·Σ|terms|. From there, layer by layer, with |x| <= 1 and |h| = |tanh| <= 1:
//   a = W1·x + b1 (16 products and the bias): |δa_j| <= 2γ(17)·(Σ_k |W1_jk| + |b1_j|)
//   h = tanh(a), Highway's Tanh within 4 ulp (<= 4u below 1) each time: |δh_j| <= |δa_j| + 8u
//   z = W2·h + b2 (8 and the bias): |δz_c| <= 2γ(9)·(Σ_j |W2_cj| + |b2_c|) + Σ_j |W2_cj|·|δh_j|
//   the loss of a sample, m + log Σ exp(z - m) - z_label: its exact value moves by at most
//     Σ_c |p_c - y_c|·|δz_c| <= 2·max|δz|, and its float evaluation (3 exps, a sum, a log, 2
//     subtractions) rounds within 8u·(|m| + log 3 + |z_label|) <= 8u·(2Z + 2) each time
//     (Z = max_c Σ_j |W2_cj| + |b2_c| bounds every |z|): |δloss| <= 2·max|δz| + 32u·(Z + 1).
//   dz = p - y (softmax: |δp| <= max|δz|; exp(z - m) rounds within (2Z + 1)u, the sum and the
//     division 2u more, twice): |δdz| <= max|δz| + (4Z + 6)u
//   the contributions of a sample to the gradients: dz·h to W2 (dz to b2), and
//   da_j = (Σ_c W2_cj·dz_c)(1 - h_j²) times x to W1 (da to b1), where the 3-term sum adds 2γ(3)
//   and (1 - h²) moves by 2|δh| plus 3u: |δda_j| <= Σ_c |W2_cj|·(2γ(3) + |δdz| + 2|δh_j| + 3u).
// A gradient element is the mean over N samples of those contributions, summed in another order
// (2γ(N) of the sum of their magnitudes S, itself measured from each sample's own gradient) and,
// for the chunks, scaled by their share and added up in float (4u of S more).
struct mlp_bounds {
  static constexpr double u = 0x1p-24;
  static double gamma(int n) { return n * u / (1 - n * u); }
  double loss_per_sample = 0;
  std::vector<double> gradient;  // per element of the gradient arena, without the 2γ(N)·S part

  template <class T>
  mlp_bounds(T& t) : gradient(t.gradients().size(), 0.0) {
    const auto w1 = t.tensor("1.weight"), b1 = t.tensor("1.bias");
    const auto w2 = t.tensor("3.weight"), b2 = t.tensor("3.bias");
    constexpr int inputs = 16, hidden = 8, classes = 3;
    double dh[hidden], max_dz = 0, z = 0;
    for (int j = 0; j < hidden; ++j) {
      double a = std::abs(b1[j]);
      for (int k = 0; k < inputs; ++k) a += std::abs(w1[j * inputs + k]);
      dh[j] = 2 * gamma(inputs + 1) * a + 8 * u;
    }
    for (int c = 0; c < classes; ++c) {
      double a = std::abs(b2[c]), moved = 0;
      for (int j = 0; j < hidden; ++j)
        a += std::abs(w2[c * hidden + j]), moved += std::abs(w2[c * hidden + j]) * dh[j];
      max_dz = std::max(max_dz, 2 * gamma(hidden + 1) * a + moved);
      z = std::max(z, a);
    }
    loss_per_sample = 2 * max_dz + 32 * u * (z + 1);
    const double ddz = max_dz + (4 * z + 6) * u;
    const auto at = [&](std::span<float> s) {
      return std::size_t(s.data() - t.parameters().data());
    };
    for (int c = 0; c < classes; ++c) {
      gradient[at(b2) + c] = ddz;
      for (int j = 0; j < hidden; ++j) gradient[at(w2) + c * hidden + j] = ddz + dh[j];
    }
    for (int j = 0; j < hidden; ++j) {
      double col = 0;
      for (int c = 0; c < classes; ++c) col += std::abs(w2[c * hidden + j]);
      const double dda = col * (2 * gamma(classes) + ddz + 2 * dh[j] + 3 * u);
      gradient[at(b1) + j] = dda;
      for (int k = 0; k < inputs; ++k) gradient[at(w1) + j * inputs + k] = dda;
    }
  }
};

// Chunks of the compiled batch give the gradient of the whole set, as if it were one batch.
BOOST_AUTO_TEST_CASE(the_gradient_over_chunks_is_the_gradient_of_the_whole) {
  constexpr auto whole_plan = training_plan{.optimizer = lbfgs{}, .batch = 100, .seed = 3};
  constexpr auto chunk_plan = training_plan{.optimizer = lbfgs{}, .batch = 30, .seed = 3};
  auto whole = kiln::compile<mlp, whole_plan>();
  auto chunked = kiln::compile<mlp, chunk_plan>();
  // The same seed: the same weights, bit for bit (the batch is not part of the initialization).
  BOOST_TEST_REQUIRE(std::ranges::equal(whole.parameters(), chunked.parameters()));
  constexpr int n = 100;
  const auto data = kiln::test::synthetic_classes(n, {1, 4, 4}, 3);
  const auto b = kiln::test::first_batch(data, n);
  const auto r1 = whole.gradient({&b, 1});
  const auto chunks = kiln::rt::chunks(data, 30);
  BOOST_TEST(chunks.size() == 4u);
  BOOST_TEST(chunks.back().n == 10);
  const auto r2 = chunked.gradient(chunks);
  const mlp_bounds bound(whole);
  // Per-sample losses are floats summed in double (its rounding, n·2^-53 of the sum, is far
  // below the bound).
  const double loss_tolerance = n * bound.loss_per_sample;
  BOOST_TEST(std::abs(r1.loss_sum - r2.loss_sum) <= loss_tolerance);
  BOOST_TEST(r1.correct == r2.correct);
  const std::vector<float> g1(whole.gradients().begin(), whole.gradients().end());
  const auto g2 = chunked.gradients();
  // S: the mean magnitude of the samples' contributions, each sample's gradient on its own.
  std::vector<double> s(g1.size(), 0.0);
  for (int i = 0; i < n; ++i) {
    kiln::rt::batch one = b;
    one.n = 1;
    one.x += i * 16;
    one.labels += i;
    whole.gradient({&one, 1});
    for (std::size_t e = 0; e < s.size(); ++e) s[e] += std::abs(whole.gradients()[e]) / n;
  }
  for (std::size_t e = 0; e < g1.size(); ++e)
    BOOST_TEST(std::abs(double(g1[e]) - g2[e]) <=
                   (2 * mlp_bounds::gamma(n) + 4 * mlp_bounds::u) * s[e] + bound.gradient[e],
               "element " << e);
  const auto l = chunked.loss(chunks, false);
  BOOST_TEST(std::abs(l.loss_sum - r1.loss_sum) <= loss_tolerance);
}

// mean loss + l2/2·‖W‖² + l1·‖W‖₁ (weights only), and its gradient, against central differences.
BOOST_AUTO_TEST_CASE(the_objective_adds_the_penalties_to_the_mean_loss) {
  constexpr auto plan = training_plan{
      .optimizer = lbfgs{}, .regularizer = l2{0.1} + l1{0.01}, .batch = 25, .seed = 2};
  auto t = kiln::compile<mlp, plan>();
  const auto data = kiln::test::synthetic_classes(60, {1, 4, 4}, 3);
  const auto chunks = kiln::rt::chunks(data, 25);
  double penalty = 0;
  for (const char* name : {"1.weight", "3.weight"})
    for (float w : t.tensor(name)) penalty += 0.1 / 2 * double(w) * w + 0.01 * std::abs(w);
  const auto v = t.objective(chunks);
  // The same data term; the kernel sums the penalty in double, with l2 and l1 as floats (each
  // within u/2 of 0.1 and 0.01): u of the penalty apart, and the double sums' rounding.
  BOOST_TEST(std::abs(v.value - (v.data.loss_sum / 60 + penalty)) <=
             kiln::test::u * penalty + 1e-15);

  const std::vector<float> g(t.gradients().begin(), t.gradients().end());
  auto p = t.parameters();
  // Central differences as in the gradient checks (tests/codegen/gradcheck.hpp: truncation and
  // the float losses' rounding, here over 60 samples rather than 8, so within it), relative to
  // max(|numeric|, 0.1). None of these weights is within the step of l1's kink at 0.
  for (std::size_t i : {std::size_t(0), std::size_t(37), std::size_t(130)}) {  // weights, bias
    const float keep = p[i], hi = keep + 1e-2f, lo = keep - 1e-2f;
    BOOST_TEST_REQUIRE(std::abs(keep) > 1e-2f);
    p[i] = hi;
    const double up = t.objective(chunks).value;
    p[i] = lo;
    const double down = t.objective(chunks).value;
    p[i] = keep;
    const double numeric = (up - down) / (double(hi) - double(lo));
    BOOST_TEST(std::abs(numeric - g[i]) <=
               kiln::test::gradcheck_tolerance(1e-2f) * std::max(std::abs(numeric), 0.1));
  }
}

// Linear least squares is a convex quadratic: both methods reach its exact solution.
BOOST_AUTO_TEST_CASE(least_squares_reaches_the_exact_fit) {
  constexpr auto linear = input<6> | dense{.units = 2} | mse{};
  constexpr auto lbfgs_fit = training_plan{
      .optimizer = lbfgs{.max_iter = 50, .line_search = line_search::strong_wolfe}, .batch = 50};
  constexpr auto newton_fit =
      training_plan{.optimizer = newton_cg{.max_iter = 10, .max_cg_iters = 20}, .batch = 50};
  const auto data = kiln::test::synthetic_regression(200, 6, 2);
  const auto chunks = kiln::rt::chunks(data, 50);
  auto a = kiln::compile<linear, lbfgs_fit>();
  auto b = kiln::compile<linear, newton_fit>();
  const double start = a.loss(chunks, false).loss_sum / 200;
  a.full_batch_step(chunks);
  b.full_batch_step(chunks);
  BOOST_TEST(a.loss(chunks, false).loss_sum / 200 < 1e-8 * start);
  BOOST_TEST(b.loss(chunks, false).loss_sum / 200 < 1e-8 * start);
  // Inexact Newton: early CG solves stop at the forcing term (0.5·‖g‖), later ones tighten.
  BOOST_TEST(b.last_step().iterations < 10);
  BOOST_TEST((b.last_step().reason != so::stop::iterations));
}

// Tanh network, non-convex: every iteration of either method ends no higher than it began.
BOOST_AUTO_TEST_CASE(the_loss_never_rises_on_a_non_convex_network) {
  constexpr auto newton = training_plan{
      .optimizer = newton_cg{.max_iter = 30, .max_cg_iters = 20}, .batch = 64, .seed = 5};
  constexpr auto wolfe = training_plan{
      .optimizer = lbfgs{.max_iter = 30, .history = 5, .line_search = line_search::strong_wolfe},
      .batch = 64,
      .seed = 5};
  const auto data = kiln::test::synthetic_classes(256, {1, 4, 4}, 3);
  const auto chunks = kiln::rt::chunks(data, 64);
  auto check = [&](auto& t) {
    std::vector<double> losses;
    t.observe([&](const so::iteration& i) { losses.push_back(i.loss); });
    const auto start = t.full_batch_step(chunks);
    BOOST_REQUIRE(!losses.empty());
    BOOST_TEST(losses.front() <= start.loss_sum / 256);
    for (std::size_t i = 1; i < losses.size(); ++i) BOOST_TEST(losses[i] <= losses[i - 1]);
    BOOST_TEST(losses.back() < 0.5 * start.loss_sum / 256);
  };
  auto a = kiln::compile<mlp, newton>();
  check(a);
  BOOST_TEST(a.last_step().evaluations > a.last_step().iterations);  // CG products count
  auto b = kiln::compile<mlp, wolfe>();
  check(b);
}

BOOST_AUTO_TEST_CASE(full_batch_training_is_deterministic) {
  const auto data = kiln::test::synthetic_classes(200, {1, 4, 4}, 3);
  constexpr auto plan =
      training_plan{.optimizer = newton_cg{.max_iter = 3}, .batch = 64, .seed = 9};
  auto a = kiln::compile<mlp, plan>(), b = kiln::compile<mlp, plan>();
  a.fit(data, nullptr, quiet(3, 64));
  b.fit(data, nullptr, quiet(3, 64));
  BOOST_TEST(std::equal(a.parameters().begin(), a.parameters().end(), b.parameters().begin()));
  BOOST_TEST(a.steps() == 3);
}

BOOST_AUTO_TEST_CASE(a_full_batch_step_allocates_nothing) {
  const auto data = kiln::test::synthetic_classes(128, {1, 4, 4}, 3);
  const auto chunks = kiln::rt::chunks(data, 32);
  constexpr auto wolfe = training_plan{
      .optimizer = lbfgs{.max_iter = 5, .history = 3, .line_search = line_search::strong_wolfe},
      .regularizer = l2{1e-3},
      .batch = 32};
  constexpr auto newton = training_plan{.optimizer = newton_cg{.max_iter = 2}, .batch = 32};
  auto a = kiln::compile<mlp, wolfe>();
  auto b = kiln::compile<mlp, newton>();
  a.full_batch_step(chunks);  // the first may initialize libraries (dispatch tables, BLAS)
  b.full_batch_step(chunks);
  const long before = kiln::test::allocations.load();
  for (int i = 0; i < 3; ++i) a.full_batch_step(chunks), b.full_batch_step(chunks);
  BOOST_TEST(kiln::test::allocations.load() - before == 0);
}

// train_step of a full-batch plan is a full-batch step on that one batch; a schedule scales
// lbfgs's lr.
BOOST_AUTO_TEST_CASE(train_step_and_schedules) {
  constexpr auto plan = training_plan{.optimizer = lbfgs{.lr = 0.5},
                                      .lr = step_decay{.every_epochs = 1, .gamma = 0.5},
                                      .batch = 16};
  auto t = kiln::compile<mlp, plan>();
  const auto data = kiln::test::synthetic_classes(16, {1, 4, 4}, 3);
  const auto b = kiln::test::first_batch(data, 16);
  t.begin_epoch(2, 1);
  BOOST_TEST(t.current_lr() == 0.125);
  const auto r = t.train_step(b);
  BOOST_TEST(t.last_step().iterations == 20);
  BOOST_TEST(t.solver().options().history == 100);
  BOOST_TEST(r.loss_sum > t.loss(b, false).loss_sum);
}

// A fixed random subset, in the original order, the same for the same seed.
BOOST_AUTO_TEST_CASE(a_subset_is_fixed_by_its_seed) {
  const auto data = kiln::test::synthetic_classes(50, {1, 2, 2}, 3);
  const auto a = kiln::rt::subset(data, 20, 4), b = kiln::rt::subset(data, 20, 4),
             c = kiln::rt::subset(data, 20, 5);
  BOOST_TEST(a.size() == 20u);
  BOOST_TEST(a.x == b.x);
  BOOST_TEST(a.x != c.x);
  BOOST_TEST(a.sample_shape == data.sample_shape, tt::per_element());
  // Each chosen sample keeps its label, in data order.
  std::size_t at = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    while (!std::equal(data.x.begin() + long(at * 4), data.x.begin() + long(at * 4 + 4),
                       a.x.begin() + long(i * 4)))
      ++at;
    BOOST_TEST(a.labels[i] == data.labels[at]);
  }
  BOOST_TEST(kiln::rt::subset(data, 50).x == data.x);
  BOOST_CHECK_THROW(kiln::rt::subset(data, 51), kiln::config_error);
}

// Transfer learning with a full-batch plan: a frozen layer gets a zero gradient in the objective,
// so no solver moves it; per-layer learning rates have no meaning there and are refused.
BOOST_AUTO_TEST_CASE(frozen_layers_stay_where_they_are) {
  constexpr auto plan = training_plan{
      .optimizer = lbfgs{.max_iter = 5, .line_search = line_search::strong_wolfe}, .batch = 64};
  const auto data = kiln::test::synthetic_classes(128, {1, 4, 4}, 3);
  const auto chunks = kiln::rt::chunks(data, 64);
  auto t = kiln::compile<mlp, plan>();
  t.freeze("1");  // the first dense layer (nn.Sequential numbering: flatten is 0)
  const auto w = t.tensor("1.weight"), head = t.tensor("3.weight");
  const std::vector<float> w0(w.begin(), w.end()), head0(head.begin(), head.end());
  t.full_batch_step(chunks);
  BOOST_TEST(std::equal(w.begin(), w.end(), w0.begin()));
  BOOST_TEST(!std::equal(head.begin(), head.end(), head0.begin()));
  BOOST_CHECK_THROW(t.configure({"3", "", false, 0.5}), kiln::config_error);
}
