// l2's formula (the vector body is l2-inl.h): g += λ·p.
#pragma once

#include "kiln/codegen/update/update.hpp"
#include "kiln/dsl/regularize/l2.hpp"

namespace kiln::codegen {

template <dsl::l2 R>
struct regular<R> {
  template <class T>
  static T grad(T p, T g, double) {
    return g + T(R.lambda) * p;
  }
};

}  // namespace kiln::codegen
