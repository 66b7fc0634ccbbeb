// Every optimizer the DSL offers. Adding one: its descriptor beside these, one include here and
// its name in `optimizers` (for tools that choose one at run time, such as optim_trace).
#pragma once

#include <cstddef>

#include "kiln/dsl/optim/adagrad.hpp"
#include "kiln/dsl/optim/adam.hpp"
#include "kiln/dsl/optim/adamw.hpp"
#include "kiln/dsl/optim/fields.hpp"
#include "kiln/dsl/optim/rmsprop.hpp"
#include "kiln/dsl/optim/sgd.hpp"

namespace kiln::dsl {

template <class... T>
struct type_list {
  static constexpr std::size_t size = sizeof...(T);
};

using optimizers = type_list<sgd, adagrad, rmsprop, adam, adamw>;

}  // namespace kiln::dsl
