// sgd's per-step scalars (target-independent half of the sgd stage; the body is sgd-inl.h).
#pragma once

#include "kiln/codegen/update/update.hpp"
#include "kiln/dsl/optim/sgd.hpp"

namespace kiln::codegen {

template <dsl::sgd O>
struct optim<O> {
  struct scalars {
    float lr, mu, keep;  // keep = 1 - dampening
  };
  // PyTorch starts the momentum buffer as a copy of the first gradient: mu = 0, keep = 1 then.
  static scalars at(const step_info& s) {
    const bool first = s.t <= 1;
    return {float(s.lr), first ? 0.0f : float(O.momentum), first ? 1.0f : float(1 - O.dampening)};
  }
};

}  // namespace kiln::codegen
