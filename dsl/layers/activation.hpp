// Element-wise activations. They keep the shape of their input and own no parameters.
#pragma once

#include "kiln/dsl/core.hpp"

namespace kiln::dsl {

// Shared by all element-wise layers: any input shape, same shape out.
struct elementwise {
  constexpr shape out(shape in) const { return in; }
  constexpr const char* check(shape) const { return nullptr; }
};

struct relu : elementwise {
  static constexpr std::string_view kind = "relu";
};

// y = x for x > 0, slope·x otherwise (PyTorch's default slope: 0.01).
struct leaky_relu : elementwise {
  static constexpr std::string_view kind = "leaky_relu";
  float slope = 0.01f;
  constexpr const char* check(shape) const {
    return slope >= 0 && slope < 1 ? nullptr : "leaky_relu: .slope must be in [0, 1)";
  }
};

// Spelled tanh_ because `tanh` would collide with ::tanh from <cmath> under `using namespace`.
struct tanh_ : elementwise {
  static constexpr std::string_view kind = "tanh";
};

struct sigmoid : elementwise {
  static constexpr std::string_view kind = "sigmoid";
};

}  // namespace kiln::dsl
