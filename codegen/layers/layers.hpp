// Every layer op: the input's, and one header per layer of the list KILN_LAYERS
// (dsl/units.hpp), codegen/layers/<name>.hpp.
#pragma once

#include "kiln/codegen/gemm.hpp"
#include "kiln/codegen/layers/input.hpp"
#include "kiln/codegen/layers/op.hpp"
#include "kiln/codegen/lower.hpp"
#include "kiln/dsl/units.hpp"

#define KILN_EACH KILN_LAYERS
#define KILN_EACH_PATH(name) BOOST_PP_STRINGIZE(kiln/codegen/layers/name.hpp)
#include "kiln/dsl/each.h"
