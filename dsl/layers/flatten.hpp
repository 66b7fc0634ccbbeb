// flatten: {c, h, w} -> {c·h·w}, in PyTorch's (C, H, W) order. A view: no data moves.
#pragma once

#include "kiln/dsl/core.hpp"

namespace kiln::dsl {

struct flatten {
  static constexpr std::string_view kind = "flatten";
  constexpr shape out(shape in) const { return vec(in.rank > 0 ? in.size() : 0); }
  constexpr const char* check(shape) const { return nullptr; }
};

}  // namespace kiln::dsl
