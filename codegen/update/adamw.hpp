// adamw's per-step scalars and formulas (the vector body is adamw-inl.h): Adam's, after the
// decoupled decay p ·= 1 − lr·weight_decay. Formulas: dsl/optim/adamw.hpp.
#pragma once

#include <array>
#include <cstddef>

#include "kiln/codegen/update/adam.hpp"
#include "kiln/dsl/optim/adamw.hpp"

namespace kiln::codegen {

template <dsl::adamw O>
struct optim<O> {
  using scalars = adam_scalars;
  static scalars at(const step_info& s, const dsl::adamw& h) { return adam_at(s, h, true); }

  static constexpr dsl::adamw form(const dsl::adamw& h) {
    return {.lr = 0, .beta1 = 0, .beta2 = 0, .eps = 0, .weight_decay = 1, .amsgrad = h.amsgrad};
  }
  static constexpr std::array forms{form({}), form({.amsgrad = true})};

  template <class T>
  static T apply(T p, T g, T* const* s, std::size_t i, const scalars& k, const dsl::adamw& h) {
    if constexpr (O.weight_decay != 0) p = p * T(k.decay);
    return adam_apply<O.amsgrad>(p, g, s, i, k, h);
  }
};

}  // namespace kiln::codegen
