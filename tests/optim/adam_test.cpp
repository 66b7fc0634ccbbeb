// adam's generated loops: bias correction, AMSGrad, coupled weight decay, and every
// regularizer, on every compiled target, against the double-precision reference.
#define BOOST_TEST_MODULE optim_adam
#include "../support/update_loops.hpp"

using namespace kiln::dsl;
using kiln::test::check_both;

BOOST_AUTO_TEST_CASE(plain) { check_both<training_plan{.optimizer = adam{.lr = 0.01}}>(); }

BOOST_AUTO_TEST_CASE(amsgrad) {
  check_both<training_plan{.optimizer = adam{.lr = 0.01, .beta2 = 0.99, .amsgrad = true}}>();
}

BOOST_AUTO_TEST_CASE(coupled_weight_decay) {
  check_both<training_plan{
      .optimizer = adam{.lr = 0.01, .beta1 = 0.8, .eps = 1e-6, .weight_decay = 1e-2}}>();
}

BOOST_AUTO_TEST_CASE(with_every_regularizer) {
  kiln::test::check_with_every_regularizer<adam{
      .lr = 0.01, .weight_decay = 1e-3, .amsgrad = true}>();
}
