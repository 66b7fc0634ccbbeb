// adamw's generated loops: decoupled weight decay (PyTorch's default 1e-2, and none), AMSGrad,
// and every regularizer, on every compiled target, against the double-precision reference.
#define BOOST_TEST_MODULE optim_adamw
#include "../support/update_loops.hpp"

using namespace kiln::dsl;
using kiln::test::check_both;

BOOST_AUTO_TEST_CASE(plain) { check_both<training_plan{.optimizer = adamw{.lr = 0.01}}>(); }

BOOST_AUTO_TEST_CASE(no_weight_decay) {
  check_both<training_plan{.optimizer = adamw{.lr = 0.01, .weight_decay = 0}}>();
}

BOOST_AUTO_TEST_CASE(amsgrad) {
  check_both<training_plan{.optimizer = adamw{.lr = 0.01, .weight_decay = 0.1, .amsgrad = true}}>();
}

BOOST_AUTO_TEST_CASE(with_every_regularizer) {
  kiln::test::check_with_every_regularizer<adamw{.lr = 0.01}>();
}
