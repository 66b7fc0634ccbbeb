// Pooling kernels over NCHW planes. `planes` = samples × channels planes of height × width
// floats each. 2×2 windows with stride 2 (the common case) have vectorized kernels; any other
// window goes through per-axis regions: output row i covers input rows [row_lo[i], row_hi[i]),
// output column j covers [col_lo[j], col_hi[j]) — standard windows (clipped to the input) and
// fractional max pooling's pseudo-random ones alike.
#pragma once

#include <cstddef>
#include <cstdint>

namespace kiln::kernels {

struct regions {
  const int* row_lo;
  const int* row_hi;
  int out_h;
  const int* col_lo;
  const int* col_hi;
  int out_w;
};

// y = the max of each 2×2 window; which[k] ∈ {0, 1, 2, 3} records its position (first max in
// row-major order, as PyTorch) for the backward pass.
void max_pool_2x2(const float* x, std::size_t planes, int height, int width, float* y,
                  float* which);
// dx = dy at each window's max, 0 elsewhere (overwrites dx).
void max_pool_2x2_backward(const float* which, const float* dy, std::size_t planes, int height,
                           int width, float* dx);
// The backward of ReLU then 2×2 max pool (y: the pooled output, so the ReLU let a window's max
// through when y > 0): dx at each window's max = dy where y > 0; sums[k] += Σ of plane k's
// surviving dy (the bias gradient of the conv before).
void max_pool_2x2_backward_relu(const float* which, const float* y, const float* dy,
                                std::size_t planes, int height, int width, float* dx, float* sums);
// The same in a blocked layout (oneDNN's nChw16c, nChw8c ...: `block` channels contiguous at
// each position; a sample is `groups` blocks of height × width positions), fused with the conv's
// bias and ReLU: y = the max over each 2×2 window of max(x + bias, 0), `which` its position as
// above (the first max of x + bias, so the same one as add_channel_bias_relu then max_pool_2x2
// pick wherever y > 0). bias: groups × block floats (zeros past the layer's channels).
void bias_relu_max_pool_2x2_blocked(const float* x, const float* bias, std::size_t samples,
                                    std::size_t groups, std::size_t block, int height, int width,
                                    float* y, float* which);
// dx (blocks of height × width × block) = dy at each window's max, 0 elsewhere (overwrites dx);
// in f32, or rounded to bf16 (nearest, ties to even, as engine::to_bf16) for a bf16 diff_dst.
void max_unpool_2x2_blocked(const float* which, const float* dy, std::size_t blocks,
                            std::size_t block, int height, int width, float* dx);
void max_unpool_2x2_blocked(const float* which, const float* dy, std::size_t blocks,
                            std::size_t block, int height, int width, std::uint16_t* dx);
void avg_pool_2x2(const float* x, std::size_t planes, int height, int width, float* y);
void avg_pool_2x2_backward(const float* dy, std::size_t planes, int height, int width, float* dx);

// The max over each region; at[k] is its index in the plane (first max in row-major order).
void max_pool_regions(const float* x, std::size_t planes, int height, int width, const regions& r,
                      float* y, float* at);
// dx[at[k]] += dy[k] (overwrites dx first; regions may overlap).
void max_pool_regions_backward(const float* at, const float* dy, std::size_t planes, int height,
                               int width, const regions& r, float* dx);
// The sum over each region divided by `divisor` (avg_pool with count_include_pad: size²).
void avg_pool_regions(const float* x, std::size_t planes, int height, int width, const regions& r,
                      float divisor, float* y);
void avg_pool_regions_backward(const float* dy, std::size_t planes, int height, int width,
                               const regions& r, float divisor, float* dx);

// y[k] = mean of plane k; backward: dx = dy[k] / (height·width) over plane k.
void global_avg_pool(const float* x, std::size_t planes, std::size_t plane, float* y);
void global_avg_pool_backward(const float* dy, std::size_t planes, std::size_t plane, float* dx);

}  // namespace kiln::kernels
