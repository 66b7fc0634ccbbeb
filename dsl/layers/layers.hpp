// Every layer the DSL offers (the list KILN_LAYERS of dsl/units.hpp); input<...> is in
// dsl/core.hpp.
#pragma once

#include "kiln/dsl/core.hpp"
#include "kiln/dsl/model.hpp"
#include "kiln/dsl/units.hpp"

#define KILN_EACH KILN_LAYERS
#define KILN_EACH_PATH(name) BOOST_PP_STRINGIZE(kiln/dsl/layers/name.hpp)
#include "kiln/dsl/each.h"
