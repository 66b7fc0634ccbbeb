// adam's per-step scalars and formulas (the vector body is adam-inl.h); adamw shares them.
// Formulas: dsl/optim/adam.hpp.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>

#include "kiln/codegen/update/update.hpp"
#include "kiln/dsl/optim/adam.hpp"

namespace kiln::codegen {

// What adam and adamw compute per step, as PyTorch does in Python (double precision):
// bias corrections from the tensor's step count, and adamw's decay factor.
struct adam_scalars {
  double step_size = 0;  // lr / (1 − beta1ᵗ)
  double bc2_sqrt = 1;   // √(1 − beta2ᵗ)
  double decay = 1;      // adamw: 1 − lr·weight_decay
};

template <class O>
adam_scalars adam_at(const step_info& s, const O& h, bool decoupled) {
  const double t = double(s.t);
  return {s.lr / (1 - std::pow(h.beta1, t)), std::sqrt(1 - std::pow(h.beta2, t)),
          decoupled ? 1 - s.lr * h.weight_decay : 1};
}

// One element of Adam's step after the gradient is final (shared by adam and adamw).
template <bool Amsgrad, class T, class O>
T adam_apply(T p, T g, T* const* s, std::size_t i, const adam_scalars& k, const O& h) {
  T& m = s[0][i];
  T& v = s[1][i];
  m = m * T(h.beta1) + T(1 - h.beta1) * g;
  v = v * T(h.beta2) + (T(1 - h.beta2) * g) * g;
  T vhat = v;
  if constexpr (Amsgrad) vhat = s[2][i] = std::max(s[2][i], v);
  const T denom = std::sqrt(vhat) / T(k.bc2_sqrt) + T(h.eps);
  return p + (T(-k.step_size) * m) / denom;
}

template <dsl::adam O>
struct optim<O> {
  using scalars = adam_scalars;
  static scalars at(const step_info& s, const dsl::adam& h) { return adam_at(s, h, false); }

  static constexpr dsl::adam form(const dsl::adam& h) {
    return {.lr = 0, .beta1 = 0, .beta2 = 0, .eps = 0, .weight_decay = 1, .amsgrad = h.amsgrad};
  }
  static constexpr std::array forms{form({}), form({.amsgrad = true})};

  template <class T>
  static T apply(T p, T g, T* const* s, std::size_t i, const scalars& k, const dsl::adam& h) {
    if constexpr (O.weight_decay != 0) g = g + T(h.weight_decay) * p;
    return adam_apply<O.amsgrad>(p, g, s, i, k, h);
  }
};

}  // namespace kiln::codegen
