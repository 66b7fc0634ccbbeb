// The input layer owns nothing: its output is the batch itself.
#pragma once

#include "kiln/codegen/layers/op.hpp"

namespace kiln::codegen {

template <dsl::input_layer L, dsl::shape In>
struct op<L, In> {
  static constexpr dsl::shape out = L.dims;
  static constexpr int aux = 0;
  static constexpr bool view = true;
};

}  // namespace kiln::codegen
