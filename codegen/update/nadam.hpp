// nadam's per-step scalars and formulas (the vector body is nadam-inl.h). Formulas:
// dsl/optim/nadam.hpp.
#pragma once

#include <array>
#include <cmath>
#include <cstddef>

#include "kiln/codegen/update/update.hpp"
#include "kiln/dsl/optim/nadam.hpp"

namespace kiln::codegen {

// The momentum products Πₜ and Π' = Πₜ·μₜ·μₜ₊₁ at step t, in float32 as PyTorch 1.13 keeps its
// mu_product, from t alone. Each thread keeps the last product it computed: a run asks for t
// right after t − 1 (one multiplication) or for t again (the step's other tensors); a resumed
// or restarted run recomputes it once from the first step.
struct nadam_products {
  float now = 1, next = 1;
};
inline nadam_products nadam_products_at(long t, double beta1, double momentum_decay) {
  const auto mu = [&](long k) {
    return beta1 * (1. - 0.5 * std::pow(0.96, double(k) * momentum_decay));
  };
  struct kept {
    double beta1 = -1, momentum_decay = -1;
    long t = 0;
    float product = 1;
  };
  thread_local kept last;
  if (last.beta1 != beta1 || last.momentum_decay != momentum_decay || last.t > t)
    last = {beta1, momentum_decay, 0, 1.0f};
  while (last.t < t) last.product = last.product * float(mu(++last.t));  // mu_product *= mu
  return {last.product, last.product * float(mu(t)) * float(mu(t + 1))};
}

template <dsl::nadam O>
struct optim<O> {
  struct scalars {
    double bc2 = 1;        // 1 − beta2ᵗ
    double grad_step = 0;  // −lr·(1 − μₜ)/(1 − Πₜ)
    double avg_step = 0;   // −lr·μₜ₊₁/(1 − Π')
  };
  static scalars at(const step_info& s, const dsl::nadam& h) {
    const double t = double(s.t);
    const double mu = h.beta1 * (1. - 0.5 * std::pow(0.96, t * h.momentum_decay));
    const double mu_next = h.beta1 * (1. - 0.5 * std::pow(0.96, (t + 1) * h.momentum_decay));
    const nadam_products pi = nadam_products_at(s.t, h.beta1, h.momentum_decay);
    return {1 - std::pow(h.beta2, t), -s.lr * (1. - mu) / (1. - double(pi.now)),
            -s.lr * mu_next / (1. - double(pi.next))};
  }

  static constexpr dsl::nadam form(const dsl::nadam&) {
    return {.lr = 0, .beta1 = 0, .beta2 = 0, .eps = 0, .weight_decay = 1, .momentum_decay = 0};
  }
  static constexpr std::array forms{form({})};

  template <class T>
  static T apply(T p, T g, T* const* s, std::size_t i, const scalars& k, const dsl::nadam& h) {
    if constexpr (O.weight_decay != 0) g = g + T(h.weight_decay) * p;
    T& m = s[0][i];
    T& v = s[1][i];
    m = m * T(h.beta1) + T(1 - h.beta1) * g;
    v = v * T(h.beta2) + (T(1 - h.beta2) * g) * g;
    const T denom = std::sqrt(v / T(k.bc2)) + T(h.eps);
    p = p + (T(k.grad_step) * g) / denom;
    return p + (T(k.avg_step) * m) / denom;
  }
};

}  // namespace kiln::codegen
