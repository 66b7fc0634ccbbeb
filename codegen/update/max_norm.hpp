// max_norm's rule: the factor of a row after the step, from its squared L2 norm (torch.renorm):
// c / (‖row‖ + 1e-7) when ‖row‖ > c, else 1. The fused loop accumulates the squared norm while
// it writes the row and rescales the row while it is still in cache.
#pragma once

#include <cmath>

#include "kiln/codegen/update/update.hpp"
#include "kiln/dsl/regularize/max_norm.hpp"

namespace kiln::codegen {

template <dsl::max_norm R>
struct regular<R> {
  static double row_factor(double sumsq) {
    const double norm = std::sqrt(sumsq);
    return norm > R.c ? R.c / (norm + 1e-7) : 1.0;
  }
};

}  // namespace kiln::codegen
