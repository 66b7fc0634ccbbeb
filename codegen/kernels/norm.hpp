// Per-channel kernels of batch normalization over x [n][channels][plane] (plane = 1 for a flat
// input: features are the channels). Sums accumulate per plane in float lanes, across planes
// in double.
#pragma once

#include <cstddef>

namespace kiln::kernels {

// mean[c] and biased variance var[c] over n·plane values (two passes).
void channel_moments(const float* x, std::size_t n, std::size_t channels, std::size_t plane,
                     float* mean, float* var);
// y = x·a[c] + b[c] (y may alias x).
void channel_affine(const float* x, const float* a, const float* b, std::size_t n,
                    std::size_t channels, std::size_t plane, float* y);
// sum_dy[c] = Σ dy, sum_dy_x[c] = Σ dy·(x − center[c]).
void channel_dot(const float* x, const float* dy, const float* center, std::size_t n,
                 std::size_t channels, std::size_t plane, float* sum_dy, float* sum_dy_x);
// dx = dy·a[c] + x·b[c] + k[c].
void channel_affine2(const float* dy, const float* x, const float* a, const float* b,
                     const float* k, std::size_t n, std::size_t channels, std::size_t plane,
                     float* dx);

}  // namespace kiln::kernels
