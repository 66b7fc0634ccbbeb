// Every layer op. A new layer kind adds its header here.
#pragma once

#include "kiln/codegen/layers/activation.hpp"
#include "kiln/codegen/layers/batch_norm.hpp"
#include "kiln/codegen/layers/conv.hpp"
#include "kiln/codegen/layers/dense.hpp"
#include "kiln/codegen/layers/dropconnect.hpp"
#include "kiln/codegen/layers/dropout.hpp"
#include "kiln/codegen/layers/flatten.hpp"
#include "kiln/codegen/layers/fractional_max_pool.hpp"
#include "kiln/codegen/layers/input.hpp"
#include "kiln/codegen/layers/loss.hpp"
#include "kiln/codegen/layers/pool.hpp"
#include "kiln/codegen/layers/residual.hpp"
