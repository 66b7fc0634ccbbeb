// l2: adds λ·p to the gradient (the gradient of λ/2·‖p‖²), i.e. PyTorch's coupled
// weight_decay = λ. Applies to tensors that take decay (weights, not biases, by default).
#pragma once

#include <string_view>

#include "kiln/dsl/regularize/compose.hpp"

namespace kiln::dsl {

struct l2 {
  static constexpr std::string_view kind = "l2";
  static constexpr phase when = phase::penalty;
  static constexpr int norm = 2;  // λ/2·‖p‖² (dsl::norm_penalty)
  double lambda = 0;
  constexpr const char* check() const {
    return lambda >= 0 ? nullptr : "l2: the strength must be >= 0";
  }
};

}  // namespace kiln::dsl
