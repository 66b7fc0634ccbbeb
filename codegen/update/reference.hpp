// The fused update as a plain scalar loop over the same formulas (each stage's <name>.hpp):
// in double precision it is the reference the generated loops are tested against; in float,
// compiled without -march, it is the baseline simd_bench measures them against.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <utility>

#include "kiln/codegen/update/stages.hpp"

namespace kiln::codegen {

namespace detail {

template <auto R, dsl::phase P, class T>
T term(T p, T g, double clip) {
  if constexpr (R.when == P)
    return regular<R>::template grad<T>(p, g, clip);
  else
    return g;
}

template <class Cfg, dsl::phase P, class T, std::size_t... I>
T terms(T p, T g, double clip, std::index_sequence<I...>) {
  ((g = term<dsl::at<I>(Cfg::regs), P>(p, g, clip)), ...);
  return g;
}

template <auto R>
double factor_of(double sumsq) {
  if constexpr (R.when == dsl::phase::constraint)
    return regular<R>::row_factor(sumsq);
  else
    return 1;
}

}  // namespace detail

template <class Cfg>
void reference_update(const update_args<Cfg>& a) {
  using T = typename Cfg::type;
  constexpr auto all = dsl::index_for<Cfg::regs.size>{};
  const auto& h = values_of(a);
  const auto one = [&](std::size_t i) {
    T g = detail::terms<Cfg, dsl::phase::clip>(a.p[i], a.g[i], a.clip, all);
    if constexpr (Cfg::decay) g = detail::terms<Cfg, dsl::phase::penalty>(a.p[i], g, a.clip, all);
    a.p[i] = optim<Cfg::opt>::template apply<T>(a.p[i], g, a.state, i, a.k, h);
  };
  const auto average = [&](std::size_t i) {  // Polyak averaging of the final weights
    if constexpr (Cfg::ema > 0) a.ema[i] += T(1 - Cfg::ema) * (a.p[i] - a.ema[i]);
  };
  if constexpr (Cfg::rows) {
    if (a.row != 0) {
      for (std::size_t r = 0; r < a.n; r += a.row) {
        const std::size_t end = std::min(a.n, r + a.row);
        double sumsq = 0;
        for (std::size_t i = r; i < end; ++i) {
          one(i);
          sumsq += double(a.p[i]) * double(a.p[i]);
        }
        const double f = [&]<std::size_t... I>(std::index_sequence<I...>) {
          return (detail::factor_of<dsl::at<I>(Cfg::regs)>(sumsq) * ... * 1.0);
        }
        (all);
        for (std::size_t i = r; i < end; ++i) {
          if (f != 1) a.p[i] *= T(f);
          average(i);
        }
      }
      return;
    }
  }
  for (std::size_t i = 0; i < a.n; ++i) one(i), average(i);
}

}  // namespace kiln::codegen
