// Gradient clipping's formulas (the vector bodies are clip-inl.h). clip_norm's factor is this
// step's scale, min(1, c / (‖g‖ + 1e-6)), computed once per step from the norm of all gradients.
#pragma once

#include <algorithm>
#include <cmath>

#include "kiln/codegen/update/update.hpp"
#include "kiln/dsl/regularize/clip.hpp"

namespace kiln::codegen {

template <dsl::clip_value R>
struct regular<R> {
  template <class T>
  static T grad(T, T g, double) {
    return g < T(-R.c) ? T(-R.c) : g > T(R.c) ? T(R.c) : g;
  }
};

template <dsl::clip_norm R>
struct regular<R> {
  template <class T>
  static T grad(T, T g, double scale) {
    return g * T(scale);
  }
  // As torch.nn.utils.clip_grad_norm_(max_norm = c): the scale for a total norm.
  static double scale(double norm) { return std::min(1.0, R.c / (norm + 1e-6)); }
};

}  // namespace kiln::codegen
