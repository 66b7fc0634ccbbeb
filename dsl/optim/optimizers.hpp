// Every optimizer the DSL offers, from the lists of dsl/units.hpp: each descriptor included, and
// the type lists `optimizers` and `full_batch_optimizers` (for tools that choose one at run
// time, such as optim_trace). Adding one: its descriptor beside these and its name in the list.
#pragma once

#include <boost/preprocessor/seq/enum.hpp>

#include <cstddef>

#include "kiln/dsl/optim/fields.hpp"
#include "kiln/dsl/optim/second_order.hpp"
#include "kiln/dsl/units.hpp"

#define KILN_EACH KILN_OPTIMIZERS KILN_FULL_BATCH_OPTIMIZERS
#define KILN_EACH_PATH(name) BOOST_PP_STRINGIZE(kiln/dsl/optim/name.hpp)
#include "kiln/dsl/each.h"

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
using optimizers = type_list<BOOST_PP_SEQ_ENUM(KILN_OPTIMIZERS)>;
// Full batch (dsl/optim/second_order.hpp): a solver stepping over the whole training set.
using full_batch_optimizers = type_list<BOOST_PP_SEQ_ENUM(KILN_FULL_BATCH_OPTIMIZERS)>;

}  // namespace kiln::dsl
