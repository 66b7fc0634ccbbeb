// Every regularizer and constraint the DSL offers (the list KILN_REGULARIZERS of
// dsl/units.hpp), and `+` to compose them.
#pragma once

#include "kiln/dsl/regularize/compose.hpp"
#include "kiln/dsl/units.hpp"

#define KILN_EACH KILN_REGULARIZERS
#define KILN_EACH_PATH(name) BOOST_PP_STRINGIZE(kiln/dsl/regularize/name.hpp)
#include "kiln/dsl/each.h"
