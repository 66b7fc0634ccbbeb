// Element-wise arithmetic the regularizing layers share (residual sums, masks, scales).
#pragma once

#include <cstddef>

namespace kiln::kernels {

// out[i] = a[i] + b[i] (out may alias a or b).
void add(const float* a, const float* b, float* out, std::size_t n);
// out[i] = a[i] + k·b[i] (out may alias a or b).
void add_scaled(const float* a, float k, const float* b, float* out, std::size_t n);
// out[i] = a[i]·b[i] (out may alias a or b).
void mul(const float* a, const float* b, float* out, std::size_t n);
// out[i] = k·a[i] (out may alias a).
void scale(const float* a, float k, float* out, std::size_t n);

}  // namespace kiln::kernels
