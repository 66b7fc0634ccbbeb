// Random masks for dropout and DropConnect, drawn from the step's generator (header-only: the
// generator is the runtime's, and drawing is sequential by nature).
#pragma once

#include <cstddef>
#include <cstdint>

#include "kiln/runtime/rng.hpp"

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

}  // namespace kiln::kernels
