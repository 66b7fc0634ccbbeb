// adagrad's per-step scalars and formulas (the vector body is adagrad-inl.h). Formulas:
// dsl/optim/adagrad.hpp.
#pragma once

#include <array>
#include <cmath>
#include <cstddef>

#include "kiln/codegen/update/update.hpp"
#include "kiln/dsl/optim/adagrad.hpp"

namespace kiln::codegen {

template <dsl::adagrad O>
struct optim<O> {
  struct scalars {
    double clr = 0;  // lr / (1 + (t − 1)·lr_decay)
  };
  static scalars at(const step_info& s, const dsl::adagrad& h) {
    return {s.lr / (1 + double(s.t - 1) * h.lr_decay)};
  }

  static constexpr dsl::adagrad form(const dsl::adagrad&) {
    return {.lr = 0, .weight_decay = 1, .eps = 0};
  }
  static constexpr std::array forms{form({})};

  template <class T>
  static T apply(T p, T g, T* const* s, std::size_t i, const scalars& k, const dsl::adagrad& h) {
    if constexpr (O.weight_decay != 0) g = g + T(h.weight_decay) * p;
    T& sum = s[0][i];
    sum = sum + g * g;
    return p + (T(-k.clr) * g) / (std::sqrt(sum) + T(h.eps));
  }
};

}  // namespace kiln::codegen
