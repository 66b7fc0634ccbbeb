// The vector body of every update stage, for the target being compiled: one
// codegen/update/<name>-inl.h per optimizer and regularizer of the lists of dsl/units.hpp (a
// regularizer without one, max_norm, has no per-lane work). Their target-independent halves are
// stages.hpp. Re-included per target (foreach_target.h): no include guard.
#include "kiln/codegen/update/stage-inl.h"
#include "kiln/codegen/update/stages.hpp"

#define KILN_EACH KILN_OPTIMIZERS KILN_REGULARIZERS
#define KILN_EACH_PATH(name) BOOST_PP_STRINGIZE(kiln/codegen/update/name-inl.h)
#define KILN_EACH_OPTIONAL
#include "kiln/dsl/each.h"
