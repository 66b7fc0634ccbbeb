// The hyperparameters of an optimizer by name (PyTorch's names), so that tools can set them from
// a command line and print them, without knowing the optimizer: each descriptor lists its own.
#pragma once

#include <string_view>

#include "kiln/dsl/optim/second_order.hpp"

namespace kiln::dsl {

template <class O>
struct field {
  std::string_view name;                  // PyTorch's keyword ("lr", "beta1", "amsgrad", ...)
  double O::*number = nullptr;            // a real-valued hyperparameter, or
  bool O::*flag = nullptr;                // a switch, or
  int O::*count = nullptr;                // a whole number (iterations, history), or
  dsl::line_search O::*search = nullptr;  // a line search: none or strong_wolfe
};

}  // namespace kiln::dsl
