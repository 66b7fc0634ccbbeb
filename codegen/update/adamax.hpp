// adamax's per-step scalars and formulas (the vector body is adamax-inl.h). Formulas:
// dsl/optim/adamax.hpp.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>

#include "kiln/codegen/update/update.hpp"
#include "kiln/dsl/optim/adamax.hpp"

namespace kiln::codegen {

template <dsl::adamax O>
struct optim<O> {
  struct scalars {
    double clr = 0;  // lr / (1 − beta1ᵗ), in double as PyTorch computes it in Python
  };
  static scalars at(const step_info& s, const dsl::adamax& h) {
    return {s.lr / (1 - std::pow(h.beta1, double(s.t)))};
  }

  static constexpr dsl::adamax form(const dsl::adamax&) {
    return {.lr = 0, .beta1 = 0, .beta2 = 0, .eps = 0, .weight_decay = 1};
  }
  static constexpr std::array forms{form({})};

  template <class T>
  static T apply(T p, T g, T* const* s, std::size_t i, const scalars& k, const dsl::adamax& h) {
    if constexpr (O.weight_decay != 0) g = g + T(h.weight_decay) * p;
    T& m = s[0][i];
    T& u = s[1][i];
    m = m * T(h.beta1) + T(1 - h.beta1) * g;
    u = std::max(u * T(h.beta2), std::abs(g) + T(h.eps));
    return p + (T(-k.clr) * m) / u;
  }
};

}  // namespace kiln::codegen
