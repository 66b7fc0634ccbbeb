// pool.hpp: the 2×2 and global kernels of pool-inl.h behind run-time dispatch, and the region
// kernels (any window, fractional max pooling): gathers with data-dependent bounds, scalar.
#include "kiln/codegen/kernels/pool.hpp"

#include <algorithm>

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kiln/codegen/kernels/pool-inl.h"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

#include "kiln/codegen/kernels/pool-inl.h"

#if HWY_ONCE
namespace kiln::kernels {

HWY_EXPORT(MaxPool2x2);
HWY_EXPORT(MaxPool2x2Backward);
HWY_EXPORT(MaxPool2x2BackwardRelu);
HWY_EXPORT(BiasReluMaxPool2x2Blocked);
HWY_EXPORT(MaxUnpool2x2Blocked);
HWY_EXPORT(MaxUnpool2x2BlockedBF16);
HWY_EXPORT(AvgPool2x2);
HWY_EXPORT(AvgPool2x2Backward);
HWY_EXPORT(GlobalAvgPool);
HWY_EXPORT(GlobalAvgPoolBackward);

void max_pool_2x2(const float* x, std::size_t planes, int height, int width, float* y,
                  float* which) {
  HWY_DYNAMIC_DISPATCH(MaxPool2x2)(x, planes, height, width, y, which);
}
void max_pool_2x2_backward(const float* which, const float* dy, std::size_t planes, int height,
                           int width, float* dx) {
  HWY_DYNAMIC_DISPATCH(MaxPool2x2Backward)(which, dy, planes, height, width, dx);
}
void max_pool_2x2_backward_relu(const float* which, const float* y, const float* dy,
                                std::size_t planes, int height, int width, float* dx, float* sums) {
  HWY_DYNAMIC_DISPATCH(MaxPool2x2BackwardRelu)(which, y, dy, planes, height, width, dx, sums);
}
void bias_relu_max_pool_2x2_blocked(const float* x, const float* bias, std::size_t samples,
                                    std::size_t groups, std::size_t block, int height, int width,
                                    float* y, float* which) {
  HWY_DYNAMIC_DISPATCH(BiasReluMaxPool2x2Blocked)
  (x, bias, samples, groups, block, height, width, y, which);
}
void max_unpool_2x2_blocked(const float* which, const float* dy, std::size_t blocks,
                            std::size_t block, int height, int width, float* dx) {
  HWY_DYNAMIC_DISPATCH(MaxUnpool2x2Blocked)(which, dy, blocks, block, height, width, dx);
}
void max_unpool_2x2_blocked(const float* which, const float* dy, std::size_t blocks,
                            std::size_t block, int height, int width, std::uint16_t* dx) {
  HWY_DYNAMIC_DISPATCH(MaxUnpool2x2BlockedBF16)(which, dy, blocks, block, height, width, dx);
}
void avg_pool_2x2(const float* x, std::size_t planes, int height, int width, float* y) {
  HWY_DYNAMIC_DISPATCH(AvgPool2x2)(x, planes, height, width, y);
}
void avg_pool_2x2_backward(const float* dy, std::size_t planes, int height, int width, float* dx) {
  HWY_DYNAMIC_DISPATCH(AvgPool2x2Backward)(dy, planes, height, width, dx);
}
void global_avg_pool(const float* x, std::size_t planes, std::size_t plane, float* y) {
  HWY_DYNAMIC_DISPATCH(GlobalAvgPool)(x, planes, plane, y);
}
void global_avg_pool_backward(const float* dy, std::size_t planes, std::size_t plane, float* dx) {
  HWY_DYNAMIC_DISPATCH(GlobalAvgPoolBackward)(dy, planes, plane, dx);
}

void max_pool_regions(const float* x, std::size_t planes, int height, int width, const regions& r,
                      float* y, float* at) {
  const std::size_t plane = std::size_t(height) * width, outs = std::size_t(r.out_h) * r.out_w;
  for (std::size_t p = 0; p < planes; ++p) {
    const float* a = x + p * plane;
    for (int i = 0; i < r.out_h; ++i)
      for (int j = 0; j < r.out_w; ++j) {
        int best = r.row_lo[i] * width + r.col_lo[j];
        for (int h = r.row_lo[i]; h < r.row_hi[i]; ++h)
          for (int w = r.col_lo[j]; w < r.col_hi[j]; ++w)
            if (a[h * width + w] > a[best]) best = h * width + w;
        const std::size_t k = p * outs + std::size_t(i) * r.out_w + j;
        y[k] = a[best];
        at[k] = float(best);
      }
  }
}

void max_pool_regions_backward(const float* at, const float* dy, std::size_t planes, int height,
                               int width, const regions& r, float* dx) {
  const std::size_t plane = std::size_t(height) * width, outs = std::size_t(r.out_h) * r.out_w;
  std::fill(dx, dx + planes * plane, 0.0f);
  for (std::size_t p = 0; p < planes; ++p)
    for (std::size_t k = 0; k < outs; ++k)
      dx[p * plane + std::size_t(at[p * outs + k])] += dy[p * outs + k];
}

void avg_pool_regions(const float* x, std::size_t planes, int height, int width, const regions& r,
                      float divisor, float* y) {
  const std::size_t plane = std::size_t(height) * width, outs = std::size_t(r.out_h) * r.out_w;
  const float inv = 1.0f / divisor;
  for (std::size_t p = 0; p < planes; ++p) {
    const float* a = x + p * plane;
    for (int i = 0; i < r.out_h; ++i)
      for (int j = 0; j < r.out_w; ++j) {
        float s = 0;
        for (int h = r.row_lo[i]; h < r.row_hi[i]; ++h)
          for (int w = r.col_lo[j]; w < r.col_hi[j]; ++w) s += a[h * width + w];
        y[p * outs + std::size_t(i) * r.out_w + j] = s * inv;
      }
  }
}

void avg_pool_regions_backward(const float* dy, std::size_t planes, int height, int width,
                               const regions& r, float divisor, float* dx) {
  const std::size_t plane = std::size_t(height) * width, outs = std::size_t(r.out_h) * r.out_w;
  const float inv = 1.0f / divisor;
  std::fill(dx, dx + planes * plane, 0.0f);
  for (std::size_t p = 0; p < planes; ++p) {
    float* a = dx + p * plane;
    for (int i = 0; i < r.out_h; ++i)
      for (int j = 0; j < r.out_w; ++j) {
        const float g = dy[p * outs + std::size_t(i) * r.out_w + j] * inv;
        for (int h = r.row_lo[i]; h < r.row_hi[i]; ++h)
          for (int w = r.col_lo[j]; w < r.col_hi[j]; ++w) a[h * width + w] += g;
      }
  }
}

}  // namespace kiln::kernels
#endif  // HWY_ONCE
