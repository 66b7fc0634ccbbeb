// Every layer op. A new layer kind adds its header here.
#pragma once

#include "kiln/codegen/layers/activation.hpp"
#include "kiln/codegen/layers/dense.hpp"
#include "kiln/codegen/layers/flatten.hpp"
#include "kiln/codegen/layers/input.hpp"
#include "kiln/codegen/layers/loss.hpp"
