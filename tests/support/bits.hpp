// The one bit-for-bit comparison of the suites: where kiln promises bit identity (same target,
// same thread count, same seed), a test compares the floats' bits, not within a tolerance.
#pragma once

#include <cstring>
#include <span>

namespace kiln::test {

// The same floats bit for bit (a NaN equals the same NaN; -0 differs from +0).
inline bool bitwise_equal(std::span<const float> a, std::span<const float> b) {
  return a.size() == b.size() &&
         (a.empty() || std::memcmp(a.data(), b.data(), a.size_bytes()) == 0);
}

}  // namespace kiln::test
