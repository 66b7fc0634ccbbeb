// What float32 arithmetic may round away: the suites' tolerances are written with these, each
// with its derivation beside it. No test framework here.
#pragma once

#include <cstddef>

namespace kiln::test {

// u = 2^-24, float32's unit roundoff. A float32 sum (or dot product) of N terms, in any order,
// is within γ(N)·Σ|terms| of the exact one, γ(N) = N·u/(1 - N·u) (Higham, Accuracy and
// Stability of Numerical Algorithms, 3.1): sum_error(N). Two computations that add the same
// terms in different orders (threads splitting a sum, a fused kernel) differ by at most twice
// that: two_orders(N).
inline constexpr double u = 0x1p-24;
inline double sum_error(std::size_t terms) { return double(terms) * u / (1 - double(terms) * u); }
inline double two_orders(std::size_t terms) { return 2 * sum_error(terms); }

}  // namespace kiln::test
