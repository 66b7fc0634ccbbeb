// Every optimizer the DSL offers. Adding one: its descriptor beside these, one include here and
// its name in `optimizers` or `full_batch_optimizers` (for tools that choose one at run time,
// such as optim_trace).
#pragma once

#include <cstddef>

#include "kiln/dsl/optim/adagrad.hpp"
#include "kiln/dsl/optim/adam.hpp"
#include "kiln/dsl/optim/adamw.hpp"
#include "kiln/dsl/optim/fields.hpp"
#include "kiln/dsl/optim/lbfgs.hpp"
#include "kiln/dsl/optim/newton_cg.hpp"
#include "kiln/dsl/optim/rmsprop.hpp"
#include "kiln/dsl/optim/sgd.hpp"

namespace kiln::dsl {

template <class... T>
struct type_list {
  static constexpr std::size_t size = sizeof...(T);
};

template <class... A, class... B>
constexpr type_list<A..., B...> operator+(type_list<A...>, type_list<B...>) {
  return {};
}

// First-order: a fused update per tensor, every step.
using optimizers = type_list<sgd, adagrad, rmsprop, adam, adamw>;
// Full batch (dsl/optim/second_order.hpp): a solver stepping over the whole training set.
using full_batch_optimizers = type_list<lbfgs, newton_cg>;

}  // namespace kiln::dsl
