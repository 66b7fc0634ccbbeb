// rmsprop's per-step scalars and formulas (the vector body is rmsprop-inl.h). Formulas:
// dsl/optim/rmsprop.hpp.
#pragma once

#include <array>
#include <cmath>
#include <cstddef>

#include "kiln/codegen/update/update.hpp"
#include "kiln/dsl/optim/rmsprop.hpp"

namespace kiln::codegen {

template <dsl::rmsprop O>
struct optim<O> {
  struct scalars {
    double lr = 0;
  };
  static scalars at(const step_info& s, const dsl::rmsprop&) { return {s.lr}; }

  static constexpr dsl::rmsprop form(const dsl::rmsprop& h) {
    return {.lr = 0,
            .alpha = 0,
            .eps = 0,
            .weight_decay = 1,
            .momentum = double(h.momentum != 0),
            .centered = h.centered};
  }
  static constexpr std::array forms{form({}), form({.centered = true}), form({.momentum = 1}),
                                    form({.momentum = 1, .centered = true})};

  template <class T>
  static T apply(T p, T g, T* const* s, std::size_t i, const scalars& k, const dsl::rmsprop& h) {
    if constexpr (O.weight_decay != 0) g = g + T(h.weight_decay) * p;
    T& v = s[0][i];
    v = v * T(h.alpha) + (T(1 - h.alpha) * g) * g;
    T avg;
    if constexpr (O.centered) {
      T& mean = s[O.centered_state()][i];
      mean = mean * T(h.alpha) + T(1 - h.alpha) * g;
      avg = std::sqrt(v - mean * mean) + T(h.eps);
    } else {
      avg = std::sqrt(v) + T(h.eps);
    }
    if constexpr (O.momentum != 0) {
      T& buf = s[O.momentum_state()][i];
      buf = buf * T(h.momentum) + g / avg;
      return p - T(k.lr) * buf;
    } else {
      return p + (T(-k.lr) * g) / avg;
    }
  }
};

}  // namespace kiln::codegen
