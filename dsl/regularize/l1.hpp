// l1: adds λ·sign(p) to the gradient (a subgradient of λ·‖p‖₁; sign(0) = 0 as torch.sign).
#pragma once

#include <string_view>

#include "kiln/dsl/regularize/compose.hpp"

namespace kiln::dsl {

struct l1 {
  static constexpr std::string_view kind = "l1";
  static constexpr phase when = phase::penalty;
  static constexpr int norm = 1;  // λ·‖p‖₁ (dsl::norm_penalty)
  double lambda = 0;
  constexpr const char* check() const {
    return lambda >= 0 ? nullptr : "l1: the strength must be >= 0";
  }
};

}  // namespace kiln::dsl
