// rmsprop's generated loops: plain, centered, with momentum, both, with coupled weight decay,
// and every regularizer, on every compiled target, against the double-precision reference.
#define BOOST_TEST_MODULE optim_rmsprop
#include "../support/update_loops.hpp"

using namespace kiln::dsl;
using kiln::test::check_both;

BOOST_AUTO_TEST_CASE(plain) { check_both<training_plan{.optimizer = rmsprop{.lr = 0.01}}>(); }

BOOST_AUTO_TEST_CASE(centered) {
  check_both<training_plan{.optimizer = rmsprop{.lr = 0.01, .alpha = 0.9, .centered = true}}>();
}

BOOST_AUTO_TEST_CASE(momentum) {
  check_both<training_plan{.optimizer = rmsprop{.lr = 0.01, .momentum = 0.9}}>();
}

BOOST_AUTO_TEST_CASE(centered_with_momentum) {
  check_both<training_plan{.optimizer = rmsprop{.lr = 0.01, .momentum = 0.5, .centered = true}}>();
}

BOOST_AUTO_TEST_CASE(coupled_weight_decay) {
  check_both<training_plan{.optimizer = rmsprop{.lr = 0.01, .eps = 1e-6, .weight_decay = 1e-2}}>();
}

BOOST_AUTO_TEST_CASE(with_every_regularizer) {
  kiln::test::check_with_every_regularizer<rmsprop{
      .lr = 0.01, .weight_decay = 1e-3, .momentum = 0.9, .centered = true}>();
}
