// adagrad's generated loops: every form (lr decay, initial accumulator, coupled weight decay)
// and every regularizer, on every compiled target, against the double-precision reference.
#define BOOST_TEST_MODULE optim_adagrad
#include "../support/update_loops.hpp"

using namespace kiln::dsl;
using kiln::test::check_both;

BOOST_AUTO_TEST_CASE(plain) { check_both<training_plan{.optimizer = adagrad{.lr = 0.05}}>(); }

BOOST_AUTO_TEST_CASE(lr_decay_and_initial_accumulator) {
  check_both<training_plan{
      .optimizer = adagrad{.lr = 0.05, .lr_decay = 0.01, .initial_accumulator_value = 0.1}}>();
}

BOOST_AUTO_TEST_CASE(coupled_weight_decay) {
  check_both<training_plan{.optimizer = adagrad{.lr = 0.05, .weight_decay = 1e-2, .eps = 1e-6}}>();
}

BOOST_AUTO_TEST_CASE(with_every_regularizer) {
  kiln::test::check_with_every_regularizer<adagrad{.lr = 0.05, .weight_decay = 1e-3}>();
}
