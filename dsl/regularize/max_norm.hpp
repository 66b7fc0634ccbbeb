// max_norm: after the step, every output row of a weight tensor (the weights feeding one output
// unit: Linear [out, in] → a row of `in`; Conv2d [out, in, kh, kw] → in·kh·kw) whose L2 norm
// exceeds c is scaled back to norm c, as torch.renorm_(w, p=2, dim=0, maxnorm=c):
//   w_row ·= c / (‖w_row‖ + 1e-7)   when ‖w_row‖ > c
#pragma once

#include <string_view>

#include "kiln/dsl/regularize/compose.hpp"

namespace kiln::dsl {

struct max_norm {
  static constexpr std::string_view kind = "max_norm";
  static constexpr phase when = phase::constraint;
  double c = 3;  // Srivastava et al. (dropout paper) used 3–4
  constexpr const char* check() const { return c > 0 ? nullptr : "max_norm: c must be > 0"; }
};

}  // namespace kiln::dsl
