// dropout: inverted dropout. Training: each value is zeroed with probability p and the survivors
// are scaled by 1 / (1 − p), so that the expected output is the input; evaluation: identity.
#pragma once

#include "kiln/dsl/core.hpp"

namespace kiln::dsl {

struct dropout {
  static constexpr std::string_view kind = "dropout";
  static constexpr bool draws_at_random = true;  // in training (dsl::random_layer)
  double p = 0.5;

  constexpr shape out(shape in) const { return in; }
  constexpr const char* check(shape) const {
    return p >= 0 && p < 1 ? nullptr : "dropout: .p must be in [0, 1)";
  }
};

}  // namespace kiln::dsl
