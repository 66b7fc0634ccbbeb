// Every learning-rate schedule the DSL offers: constant_lr and step_decay (schedules.hpp) and the
// list KILN_SCHEDULES of dsl/units.hpp.
#pragma once

#include "kiln/dsl/lr/schedules.hpp"
#include "kiln/dsl/units.hpp"

#define KILN_EACH KILN_SCHEDULES
#define KILN_EACH_PATH(name) BOOST_PP_STRINGIZE(kiln/dsl/lr/name.hpp)
#include "kiln/dsl/each.h"
