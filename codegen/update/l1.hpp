// l1's formula (the vector body is l1-inl.h): g += λ·sign(p), sign(0) = 0.
#pragma once

#include "kiln/codegen/update/update.hpp"
#include "kiln/dsl/regularize/l1.hpp"

namespace kiln::codegen {

template <dsl::l1 R>
struct regular<R> {
  template <class T>
  static T grad(T p, T g, double) {
    return g + (p > 0 ? T(R.lambda) : p < 0 ? -T(R.lambda) : T(0));
  }
};

}  // namespace kiln::codegen
