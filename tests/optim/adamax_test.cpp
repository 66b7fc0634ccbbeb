// adamax's generated loops: bias correction, the infinity norm, coupled weight decay, and every
// regularizer, on every compiled target, against the double-precision reference. (Its
// trajectories against PyTorch 1.13: tests/data/torch_optim/adamax.json, trace_test.)
#define BOOST_TEST_MODULE optim_adamax
#include "../support/update_loops.hpp"

using namespace kiln::dsl;
using kiln::test::check_both;

BOOST_AUTO_TEST_CASE(defaults_are_pytorchs) {
  static_assert(adamax{} ==
                adamax{.lr = 2e-3, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8, .weight_decay = 0});
  static_assert(adamax{}.check() == nullptr && adamax{}.states() == 2);
  BOOST_TEST(adamax{}.state_name(0) == "exp_avg");
  BOOST_TEST(adamax{}.state_name(1) == "exp_inf");
}

BOOST_AUTO_TEST_CASE(plain) { check_both<training_plan{.optimizer = adamax{.lr = 0.01}}>(); }

BOOST_AUTO_TEST_CASE(coupled_weight_decay) {
  check_both<training_plan{
      .optimizer = adamax{.lr = 0.01, .beta1 = 0.8, .eps = 1e-6, .weight_decay = 1e-2}}>();
}

BOOST_AUTO_TEST_CASE(with_every_regularizer) {
  kiln::test::check_with_every_regularizer<adamax{.lr = 0.01, .weight_decay = 1e-3}>();
}

BOOST_AUTO_TEST_CASE(per_step_scalars) {
  constexpr adamax a{.beta1 = 0.8};
  for (long t : {1L, 2L, 10L})
    BOOST_TEST(kiln::codegen::optim<a>::at({t, 0.5}, a).clr ==
               0.5 / (1 - std::pow(0.8, double(t))));
}
