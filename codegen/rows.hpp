// A model's memory as plain numbers (layout.hpp fills them at compile time): where each
// parameter tensor or buffer lives, and what each layer's output and scratch take. One type for
// every model, so that the code that only walks them is compiled once (trainer/*.cpp), not once
// per model.
#pragma once

#include <cstddef>

#include "kiln/dsl/core.hpp"

namespace kiln::codegen {

// A parameter tensor (or buffer) of a layer and where it lives in its arena.
struct tensor_row {
  std::size_t layer = 0;
  dsl::param spec{};
  std::size_t offset = 0;  // in the parameter (buffer) arena
};

// A layer's share of the memory.
struct layer_row {
  std::size_t param_base = 0;   // offset of the layer's first parameter
  std::size_t param_size = 0;   // aligned floats of all its parameters
  std::size_t tensors = 0;      // number of parameter tensors
  int out = 0;                  // floats per sample of its output
  int aux = 0;                  // floats per sample of its scratch
  bool view = false;            // output aliases input
  std::size_t work = 0;         // fixed scratch floats (aligned)
  std::size_t buffer_base = 0;  // offset of its first buffer in the buffer arena
  std::size_t buffer_size = 0;  // aligned floats of all its buffers
};

}  // namespace kiln::codegen
