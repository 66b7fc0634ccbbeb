// sgd's generated loops: every form (plain, momentum, dampening, Nesterov, coupled weight decay)
// and every regularizer, on every compiled target, against the double-precision reference.
#define BOOST_TEST_MODULE optim_sgd
#include "../support/update_loops.hpp"

using namespace kiln::dsl;
using kiln::test::check_both;

BOOST_AUTO_TEST_CASE(plain) { check_both<training_plan{.optimizer = sgd{.lr = 0.05}}>(); }

BOOST_AUTO_TEST_CASE(momentum) {
  check_both<training_plan{.optimizer = sgd{.lr = 0.05, .momentum = 0.9}}>();
}

BOOST_AUTO_TEST_CASE(momentum_with_dampening) {
  check_both<training_plan{.optimizer = sgd{.lr = 0.05, .momentum = 0.8, .dampening = 0.3}}>();
}

BOOST_AUTO_TEST_CASE(nesterov) {
  check_both<training_plan{.optimizer = sgd{.lr = 0.05, .momentum = 0.9, .nesterov = true}}>();
}

BOOST_AUTO_TEST_CASE(coupled_weight_decay) {
  check_both<training_plan{.optimizer = sgd{.lr = 0.05, .weight_decay = 1e-2}}>();
}

BOOST_AUTO_TEST_CASE(with_every_regularizer) {
  kiln::test::check_with_every_regularizer<sgd{
      .lr = 0.05, .momentum = 0.9, .weight_decay = 1e-3}>();
}
