// Everything a model file needs: `using namespace kiln::dsl;`.
#pragma once

#include "kiln/dsl/core.hpp"
#include "kiln/dsl/ensemble.hpp"
#include "kiln/dsl/layers/activation.hpp"
#include "kiln/dsl/layers/dense.hpp"
#include "kiln/dsl/layers/flatten.hpp"
#include "kiln/dsl/layers/loss.hpp"
#include "kiln/dsl/lr/cyclic_cosine.hpp"
#include "kiln/dsl/lr/schedules.hpp"
#include "kiln/dsl/model.hpp"
#include "kiln/dsl/optim/optimizers.hpp"
#include "kiln/dsl/regularize/regularizers.hpp"
#include "kiln/dsl/schedule.hpp"
