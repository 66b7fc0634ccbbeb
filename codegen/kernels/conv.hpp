// Kernels of conv2d in kiln's activation layout, NCHW (one sample: [channels][height][width],
// planes contiguous), around the convolution itself (codegen/engine/conv.hpp): the bias, the
// ReLU and the bias gradient.
#pragma once

#include <cstddef>

namespace kiln::kernels {

// y[s][c][p] += b[c] for s < n, c < channels, p < plane.
void add_channel_bias(float* y, const float* b, std::size_t n, std::size_t channels,
                      std::size_t plane);
// One sample's y[c][p] = max(y[c][p] + b[c], 0): conv2d followed by ReLU.
void add_channel_bias_relu(float* y, const float* b, std::size_t channels, std::size_t plane);
// One sample: out = dy where y > 0, else 0 (the ReLU's backward, y its output), and
// sums[c] += Σ_p out[c][p] (the bias gradient).
void relu_mask_sums(const float* y, const float* dy, std::size_t channels, std::size_t plane,
                    float* out, float* sums);
// out[c] = Σ_s Σ_p a[s][c][p]: the bias gradient of a conv layer (overwrites out).
void channel_sums(const float* a, std::size_t n, std::size_t channels, std::size_t plane,
                  float* out);

}  // namespace kiln::kernels
