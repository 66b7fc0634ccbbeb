// gelu: y = x·Φ(x) = x/2·(1 + erf(x/√2)), Φ the standard normal distribution function —
// PyTorch's nn.GELU() (approximate='none'). Any input shape, same shape out, no parameters.
#pragma once

#include "kiln/dsl/layers/activation.hpp"

namespace kiln::dsl {

struct gelu : elementwise {
  static constexpr std::string_view kind = "gelu";
};

}  // namespace kiln::dsl
