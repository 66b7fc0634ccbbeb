// conv.hpp: im2col/col2im (data movement, target-independent) and the per-target arithmetic of
// conv-inl.h behind run-time dispatch.
#include "kiln/codegen/kernels/conv.hpp"

#include <algorithm>
#include <cstring>

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kiln/codegen/kernels/conv-inl.h"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

#include "kiln/codegen/kernels/conv-inl.h"

#if HWY_ONCE
namespace kiln::kernels {

HWY_EXPORT(ShiftedPlane);
HWY_EXPORT(UnshiftAdd);
HWY_EXPORT(ShiftRows);
HWY_EXPORT(GatherRows);
HWY_EXPORT(AddChannelBias);
HWY_EXPORT(AddChannelBiasRelu);
HWY_EXPORT(ReluMaskSums);
HWY_EXPORT(ChannelSums);

void add_channel_bias(float* y, const float* b, std::size_t n, std::size_t channels,
                      std::size_t plane) {
  HWY_DYNAMIC_DISPATCH(AddChannelBias)(y, b, n, channels, plane);
}
void add_channel_bias_relu(float* y, const float* b, std::size_t channels, std::size_t plane) {
  HWY_DYNAMIC_DISPATCH(AddChannelBiasRelu)(y, b, channels, plane);
}
void relu_mask_sums(const float* y, const float* dy, std::size_t channels, std::size_t plane,
                    float* out, float* sums) {
  HWY_DYNAMIC_DISPATCH(ReluMaskSums)(y, dy, channels, plane, out, sums);
}
void channel_sums(const float* a, std::size_t n, std::size_t channels, std::size_t plane,
                  float* out) {
  HWY_DYNAMIC_DISPATCH(ChannelSums)(a, n, channels, plane, out);
}

namespace {

// Stride 1 with an output plane smaller than the input's (pad != (k − 1)/2): row by row.
void shifted_rows(const window& g, const float* x, int di, int dj, float* o) {
  const int W = g.width, H = g.height, Wo = g.out_w, Ho = g.out_h;
  const int j0 = std::clamp(-dj, 0, Wo), j1 = std::clamp(W - dj, j0, Wo);
  for (int i = 0; i < Ho; ++i) {
    float* row = o + long(i) * Wo;
    const int h = i + di;
    if (h < 0 || h >= H) {
      std::fill(row, row + Wo, 0.0f);
      continue;
    }
    std::fill(row, row + j0, 0.0f);
    std::memcpy(row + j0, x + long(h) * W + j0 + dj, std::size_t(j1 - j0) * sizeof(float));
    std::fill(row + j1, row + Wo, 0.0f);
  }
}

}  // namespace

void im2col(const window& g, const float* x, float* col) {
  const long P = long(g.out_h) * g.out_w, plane = long(g.height) * g.width;
  for (int c = 0; c < g.channels; ++c)
    for (int ki = 0; ki < g.kernel; ++ki)
      for (int kj = 0; kj < g.kernel; ++kj) {
        float* o = col + ((long(c) * g.kernel + ki) * g.kernel + kj) * P;
        const float* xc = x + c * plane;
        const int di = ki - g.pad, dj = kj - g.pad;
        if (g.stride == 1 && g.out_h == g.height && g.out_w == g.width) {
          HWY_DYNAMIC_DISPATCH(ShiftedPlane)(xc, g.height, g.width, di, dj, o);
          continue;
        }
        if (g.stride == 1) {
          shifted_rows(g, xc, di, dj, o);
          continue;
        }
        for (int i = 0; i < g.out_h; ++i) {
          const int h = i * g.stride + di;
          for (int j = 0; j < g.out_w; ++j) {
            const int w = j * g.stride + dj;
            o[i * g.out_w + j] =
                h >= 0 && h < g.height && w >= 0 && w < g.width ? xc[long(h) * g.width + w] : 0.0f;
          }
        }
      }
}

void column_masks(const window& g, float* masks) {
  const long P = long(g.height) * g.width, n = mask_floats(g);
  for (int d = 0; d < g.kernel; ++d)
    for (long q = 0; q < n; ++q) {
      const long j = q % g.width + d - g.pad;
      masks[d * n + q] = q < P && j >= 0 && j < g.width ? 1.0f : 0.0f;
    }
}

void im2col_same(const window& g, const float* x, float* pad_buf, const float* masks, float* col) {
  const long P = long(g.height) * g.width;
  for (int c = 0; c < g.channels; ++c)
    HWY_DYNAMIC_DISPATCH(ShiftRows)
    (x + c * P, pad_buf + margin(g), masks, mask_floats(g), g.kernel, g.pad, g.height, g.width,
     col + c * g.kernel * g.kernel * P);
}

void col2im_same(const window& g, const float* col, long stride, const float* masks, float* dx) {
  const int taps = g.kernel * g.kernel;
  const long P = long(g.height) * g.width;
  for (int c = 0; c < g.channels; ++c)
    HWY_DYNAMIC_DISPATCH(GatherRows)
    (col + margin(g) + c * taps * stride, stride, masks, mask_floats(g), g.kernel, g.pad, g.height,
     g.width, dx + c * P);
}

void col2im(const window& g, float* col, float* dx) {
  const long P = long(g.out_h) * g.out_w, plane = long(g.height) * g.width;
  auto row_of = [&](int c, int ki, int kj) {
    return col + ((long(c) * g.kernel + ki) * g.kernel + kj) * P;
  };
  if (g.stride == 1 && g.out_h == g.height && g.out_w == g.width) {  // the centre goes first
    for (int c = 0; c < g.channels; ++c) {
      float* xc = dx + c * plane;
      HWY_DYNAMIC_DISPATCH(UnshiftAdd)(row_of(c, g.pad, g.pad), g.height, g.width, 0, 0, true, xc);
      for (int ki = 0; ki < g.kernel; ++ki)
        for (int kj = 0; kj < g.kernel; ++kj)
          if (ki != g.pad || kj != g.pad) HWY_DYNAMIC_DISPATCH(UnshiftAdd)
      (row_of(c, ki, kj), g.height, g.width, ki - g.pad, kj - g.pad, false, xc);
    }
    return;
  }
  std::fill(dx, dx + g.channels * plane, 0.0f);
  for (int c = 0; c < g.channels; ++c)
    for (int ki = 0; ki < g.kernel; ++ki)
      for (int kj = 0; kj < g.kernel; ++kj) {
        const float* o = row_of(c, ki, kj);
        float* xc = dx + c * plane;
        const int di = ki - g.pad, dj = kj - g.pad;
        for (int i = 0; i < g.out_h; ++i) {
          const int h = i * g.stride + di;
          if (h < 0 || h >= g.height) continue;
          for (int j = 0; j < g.out_w; ++j) {
            const int w = j * g.stride + dj;
            if (w >= 0 && w < g.width) xc[long(h) * g.width + w] += o[i * g.out_w + j];
          }
        }
      }
}

}  // namespace kiln::kernels
#endif  // HWY_ONCE
