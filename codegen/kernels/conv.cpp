// conv.hpp: im2col/col2im (data movement, target-independent) and the per-target arithmetic of
// conv-inl.h behind run-time dispatch.
#include "kiln/codegen/kernels/conv.hpp"

#include "kiln/codegen/kernels/arith.hpp"

#include <algorithm>
#include <cstring>

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kiln/codegen/kernels/conv-inl.h"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

#include "kiln/codegen/kernels/conv-inl.h"

#if HWY_ONCE
namespace kiln::kernels {

HWY_EXPORT(AddChannelBias);
HWY_EXPORT(ChannelSums);

void add_channel_bias(float* y, const float* b, std::size_t n, std::size_t channels,
                      std::size_t plane) {
  HWY_DYNAMIC_DISPATCH(AddChannelBias)(y, b, n, channels, plane);
}
void channel_sums(const float* a, std::size_t n, std::size_t channels, std::size_t plane,
                  float* out) {
  HWY_DYNAMIC_DISPATCH(ChannelSums)(a, n, channels, plane, out);
}

namespace {

// Stride 1: the row for kernel offset (di, dj) is the plane shifted by s = di·W + dj. One flat
// copy moves every valid value; what wraps around a row edge lands in a column whose source
// column j + dj is outside [0, W), and those are zeroed afterwards. (Here out_h = H + 2·pad − k + 1
// and out_w likewise, so for pad != (k − 1)/2 the output plane is smaller than the input's: the
// shift is then taken in output coordinates, row by row.)
void shifted_plane(const window& g, const float* x, int di, int dj, float* o) {
  const int W = g.width, H = g.height, Wo = g.out_w, Ho = g.out_h;
  if (Wo == W && Ho == H) {
    const long P = long(H) * W, s = long(di) * W + dj;
    const long lo = std::clamp(-s, 0L, P), hi = std::clamp(P - s, 0L, P);
    std::fill(o, o + lo, 0.0f);
    if (hi > lo) std::memcpy(o + lo, x + lo + s, std::size_t(hi - lo) * sizeof(float));
    std::fill(o + std::max(hi, lo), o + P, 0.0f);
    // Columns whose source j + dj is outside the row.
    const int j0 = std::max(0, -dj), j1 = std::min(W, W - dj);
    if (j0 > 0 || j1 < W)
      for (int i = 0; i < H; ++i) {
        float* row = o + long(i) * W;
        for (int j = 0; j < j0; ++j) row[j] = 0;
        for (int j = j1; j < W; ++j) row[j] = 0;
      }
    return;
  }
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
        if (g.stride == 1) {
          shifted_plane(g, xc, di, dj, o);
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

void col2im(const window& g, float* col, float* dx) {
  const long P = long(g.out_h) * g.out_w, plane = long(g.height) * g.width;
  std::fill(dx, dx + g.channels * plane, 0.0f);
  const bool same = g.stride == 1 && g.out_h == g.height && g.out_w == g.width;
  for (int c = 0; c < g.channels; ++c)
    for (int ki = 0; ki < g.kernel; ++ki)
      for (int kj = 0; kj < g.kernel; ++kj) {
        float* o = col + ((long(c) * g.kernel + ki) * g.kernel + kj) * P;
        float* xc = dx + c * plane;
        const int di = ki - g.pad, dj = kj - g.pad;
        if (same) {
          // The adjoint of shifted_plane: drop the wrapped columns, then one flat add.
          const int W = g.width, j0 = std::max(0, -dj), j1 = std::min(W, W - dj);
          if (j0 > 0 || j1 < W)
            for (int i = 0; i < g.height; ++i) {
              float* row = o + long(i) * W;
              for (int j = 0; j < j0; ++j) row[j] = 0;
              for (int j = j1; j < W; ++j) row[j] = 0;
            }
          const long s = long(di) * W + dj;
          const long lo = std::clamp(-s, 0L, P), hi = std::clamp(P - s, 0L, P);
          if (hi > lo) add(o + lo, xc + lo + s, xc + lo + s, std::size_t(hi - lo));
          continue;
        }
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
