// dense: y = x·Wᵀ + b (PyTorch's Linear; W is [units, inputs]).
#pragma once

#include <array>

#include "kiln/dsl/core.hpp"

namespace kiln::dsl {

struct dense {
  static constexpr std::string_view kind = "dense";
  static constexpr std::size_t n_params = 2;

  int units = 0;
  name_t name{};

  constexpr const char* check(shape in) const {
    if (units <= 0) return "dense: .units must be positive";
    if (!in.flat()) return "dense: the input is not flat; put flatten{} before this layer";
    return nullptr;
  }
  constexpr shape out(shape) const { return vec(units); }
  constexpr std::array<param, n_params> params(shape in) const {
    const int fan_in = in.size();
    return {param{"weight", matrix(units, fan_in), init::fan_in_uniform, fan_in, true},
            param{"bias", vec(units), init::fan_in_uniform, fan_in, false}};
  }
};

}  // namespace kiln::dsl
