// sgd's per-step scalars and formulas (target-independent half of the stage; the vector body is
// sgd-inl.h). Formulas: dsl/optim/sgd.hpp.
#pragma once

#include <array>
#include <cstddef>

#include "kiln/codegen/update/update.hpp"
#include "kiln/dsl/optim/sgd.hpp"

namespace kiln::codegen {

template <dsl::sgd O>
struct optim<O> {
  struct scalars {
    double lr = 0, mu = 0, keep = 1;  // keep = 1 − dampening
  };
  // PyTorch starts the momentum buffer as a copy of the first gradient: mu = 0, keep = 1 then.
  static scalars at(const step_info& s, const dsl::sgd& h) {
    const bool first = s.t <= 1;
    return {s.lr, first ? 0.0 : h.momentum, first ? 1.0 : 1 - h.dampening};
  }

  // The structure a loop is compiled for; weight decay is always in a run-time form (with 0 it
  // adds exactly nothing).
  static constexpr dsl::sgd form(const dsl::sgd& h) {
    return {
        .lr = 0, .momentum = double(h.momentum != 0), .nesterov = h.nesterov, .weight_decay = 1};
  }
  static constexpr std::array forms{form({}), form({.momentum = 1}),
                                    form({.momentum = 1, .nesterov = true})};

  template <class T>
  static T apply(T p, T g, T* const* s, std::size_t i, const scalars& k, const dsl::sgd& h) {
    if constexpr (O.weight_decay != 0) g = g + T(h.weight_decay) * p;
    if constexpr (O.momentum != 0) {
      T& buf = s[0][i];
      buf = buf * T(k.mu) + T(k.keep) * g;
      g = O.nesterov ? g + T(h.momentum) * buf : buf;
    }
    return p - T(k.lr) * g;
  }
};

}  // namespace kiln::codegen
