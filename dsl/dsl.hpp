// Everything a model file needs: `using namespace kiln::dsl;`.
#pragma once

#include "kiln/dsl/augment/augment.hpp"
#include "kiln/dsl/core.hpp"
#include "kiln/dsl/ensemble.hpp"
#include "kiln/dsl/faults.hpp"
#include "kiln/dsl/layers/layers.hpp"
#include "kiln/dsl/lr/lr.hpp"
#include "kiln/dsl/model.hpp"
#include "kiln/dsl/optim/optimizers.hpp"
#include "kiln/dsl/precision.hpp"
#include "kiln/dsl/regularize/regularizers.hpp"
#include "kiln/dsl/plan.hpp"
#include "kiln/dsl/schedule.hpp"  // the deprecated spelling of training_plan
