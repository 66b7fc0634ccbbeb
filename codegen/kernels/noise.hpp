// Random masks for dropout and DropConnect, drawn from the step's generator (header-only: the
// generator is the runtime's, and drawing is sequential by nature).
#pragma once

#include <cstddef>
#include <cstdint>

#include "kiln/core/rng.hpp"

namespace kiln::kernels {

// mask[i] = 1/(1 − p) with probability 1 − p, else 0. Two 32-bit draws per 64-bit output:
// P(draw < p·2³²) = p up to 2⁻³².
inline void dropout_mask(rt::rng& r, double p, float* mask, std::size_t n) {
  const auto threshold = static_cast<std::uint64_t>(p * 4294967296.0);
  const float keep = static_cast<float>(1.0 / (1.0 - p));
  std::size_t i = 0;
  for (; i + 2 <= n; i += 2) {
    const std::uint64_t bits = r.next();
    mask[i] = (bits & 0xffffffffu) < threshold ? 0.0f : keep;
    mask[i + 1] = (bits >> 32) < threshold ? 0.0f : keep;
  }
  if (i < n) mask[i] = (r.next() & 0xffffffffu) < threshold ? 0.0f : keep;
}

// Values [first, first + n) of the mask dropout_mask would draw for `total` values, the
// generator left where that call leaves it: a data-parallel rank draws its own samples' part of
// the global batch's mask (the other parts' numbers are drawn and dropped, about a nanosecond
// each).
inline void dropout_mask(rt::rng& r, double p, float* mask, std::size_t first, std::size_t n,
                         std::size_t total) {
  if (first == 0 && n == total) return dropout_mask(r, p, mask, n);
  const auto threshold = static_cast<std::uint64_t>(p * 4294967296.0);
  const float keep = static_cast<float>(1.0 / (1.0 - p));
  const std::size_t draws = (total + 1) / 2;  // value v comes from draw v / 2, half v % 2
  std::size_t d = 0;
  for (; d < first / 2; ++d) r.next();
  for (; n > 0 && d <= (first + n - 1) / 2; ++d) {
    const std::uint64_t bits = r.next();
    for (std::size_t v = 2 * d; v < 2 * d + 2; ++v)
      if (v >= first && v < first + n)
        mask[v - first] = ((v % 2 ? bits >> 32 : bits) & 0xffffffffu) < threshold ? 0.0f : keep;
  }
  for (; d < draws; ++d) r.next();
}

}  // namespace kiln::kernels
