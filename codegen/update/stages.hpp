// The target-independent half of every update stage (per-step scalars, formulas): one header
// per optimizer and regularizer of the lists of dsl/units.hpp, codegen/update/<name>.hpp. Their
// vector bodies are included by stages-inl.h.
#pragma once

#include "kiln/codegen/update/update.hpp"
#include "kiln/dsl/units.hpp"

#define KILN_EACH KILN_OPTIMIZERS KILN_REGULARIZERS
#define KILN_EACH_PATH(name) BOOST_PP_STRINGIZE(kiln/codegen/update/name.hpp)
#include "kiln/dsl/each.h"
