// nadam's generated loops: the momentum schedule μₜ and its products, bias correction, coupled
// weight decay, and every regularizer, on every compiled target, against the double-precision
// reference. (Its trajectories against PyTorch 1.13: tests/data/torch_optim/nadam.json,
// trace_test.)
#define BOOST_TEST_MODULE optim_nadam
#include "../support/update_loops.hpp"

using namespace kiln::dsl;
using kiln::test::check_both;
namespace cg = kiln::codegen;

BOOST_AUTO_TEST_CASE(defaults_are_pytorchs) {
  static_assert(nadam{} == nadam{.lr = 2e-3,
                                 .beta1 = 0.9,
                                 .beta2 = 0.999,
                                 .eps = 1e-8,
                                 .weight_decay = 0,
                                 .momentum_decay = 4e-3});
  static_assert(nadam{}.check() == nullptr && nadam{}.states() == 2);
  BOOST_TEST(nadam{}.state_name(0) == "exp_avg");
  BOOST_TEST(nadam{}.state_name(1) == "exp_avg_sq");
}

BOOST_AUTO_TEST_CASE(plain) { check_both<training_plan{.optimizer = nadam{.lr = 0.01}}>(); }

BOOST_AUTO_TEST_CASE(coupled_weight_decay_and_faster_momentum_decay) {
  check_both<training_plan{
      .optimizer = nadam{
          .lr = 0.01, .beta1 = 0.8, .eps = 1e-6, .weight_decay = 1e-2, .momentum_decay = 0.05}}>();
}

BOOST_AUTO_TEST_CASE(with_every_regularizer) {
  kiln::test::check_with_every_regularizer<nadam{.lr = 0.01, .weight_decay = 1e-3}>();
}

// Πₜ is the float32 product of μ₁..μₜ whatever order steps are asked in (a resumed run asks for
// a late t first; two tensors of a step ask for the same t).
BOOST_AUTO_TEST_CASE(momentum_products_are_a_function_of_the_step) {
  const double beta1 = 0.9, psi = 4e-3;
  float product = 1;
  std::vector<cg::nadam_products> in_order;
  for (long t = 1; t <= 50; ++t) {
    product = product * float(beta1 * (1. - 0.5 * std::pow(0.96, double(t) * psi)));
    in_order.push_back(cg::nadam_products_at(t, beta1, psi));
    BOOST_TEST(in_order.back().now == product);
  }
  for (long t : {50L, 7L, 7L, 1L, 33L}) {
    const auto again = cg::nadam_products_at(t, beta1, psi);
    BOOST_TEST(again.now == in_order[std::size_t(t - 1)].now);
    BOOST_TEST(again.next == in_order[std::size_t(t - 1)].next);
  }
  BOOST_TEST(cg::nadam_products_at(3, 0.5, psi).now != cg::nadam_products_at(3, beta1, psi).now);
}
