// Per-target bodies of conv.hpp: the stride-1 shifted-plane copies of im2col and col2im (the
// common case, run for every sample twice per step) and the per-channel bias and sums.
#if defined(KILN_CODEGEN_KERNELS_CONV_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef KILN_CODEGEN_KERNELS_CONV_INL_H_
#undef KILN_CODEGEN_KERNELS_CONV_INL_H_
#else
#define KILN_CODEGEN_KERNELS_CONV_INL_H_
#endif

#include <hwy/highway.h>

#include <algorithm>

HWY_BEFORE_NAMESPACE();
namespace kiln::kernels::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// y[i] = f(d, a[i], y[i]) for i < n: full vectors, then single lanes.
template <class F>
HWY_INLINE void update2(const float* a, float* y, std::size_t n, F f) {
  const hn::ScalableTag<float> d;
  const hn::CappedTag<float, 1> d1;
  const std::size_t lanes = hn::Lanes(d);
  std::size_t i = 0;
  for (; i + lanes <= n; i += lanes)
    hn::StoreU(f(d, hn::LoadU(d, a + i), hn::LoadU(d, y + i)), d, y + i);
  for (; i < n; ++i) hn::StoreU(f(d1, hn::LoadU(d1, a + i), hn::LoadU(d1, y + i)), d1, y + i);
}

// Σ a[i] for i < n, in float with one accumulator per lane.
HWY_INLINE float sum(const float* a, std::size_t n) {
  const hn::ScalableTag<float> d;
  const std::size_t lanes = hn::Lanes(d);
  auto acc = hn::Zero(d);
  std::size_t i = 0;
  for (; i + lanes <= n; i += lanes) acc = hn::Add(acc, hn::LoadU(d, a + i));
  float s = hn::GetLane(hn::SumOfLanes(d, acc));
  for (; i < n; ++i) s += a[i];
  return s;
}

// A few floats (the edges of a row). conv.cpp is compiled with -fno-tree-loop-distribute-patterns:
// otherwise GCC turns these loops into memset calls, whose call overhead dominated (measured).
HWY_INLINE void zero_few(float* o, long n) {
  for (long i = 0; i < n; ++i) o[i] = 0;
}

// o[q] = x[q + s] for q in [lo, hi), 0 elsewhere in [0, n): one plane row of im2col.
HWY_INLINE void shifted_copy(const float* x, long s, long lo, long hi, long n, float* o) {
  const hn::ScalableTag<float> d;
  const long lanes = long(hn::Lanes(d));
  long q = 0;
  for (; q + lanes <= lo; q += lanes) hn::StoreU(hn::Zero(d), d, o + q);
  zero_few(o + q, lo - q);
  q = lo;
  for (; q + lanes <= hi; q += lanes) hn::StoreU(hn::LoadU(d, x + q + s), d, o + q);
  for (; q < hi; ++q) o[q] = x[q + s];
  for (; q + lanes <= n; q += lanes) hn::StoreU(hn::Zero(d), d, o + q);
  zero_few(o + q, n - q);
}

// Zeroes the columns [0, j0) and [j1, width) of each row.
HWY_INLINE void zero_columns(float* o, int height, int width, int j0, int j1) {
  if (j0 == 0 && j1 == width) return;
  for (int i = 0; i < height; ++i) {
    float* row = o + long(i) * width;
    zero_few(row, j0);
    zero_few(row + j1, width - j1);
  }
}

// The row of kernel offset (di, dj) for a stride-1 convolution whose output plane is its input
// plane (H × W): the plane shifted by s = di·W + dj. One flat copy moves every valid value;
// what wraps around a row edge lands in a column whose source column j + dj is outside [0, W),
// zeroed afterwards. (Valid source rows follow from the flat range.)
void ShiftedPlane(const float* x, int height, int width, int di, int dj, float* o) {
  const long P = long(height) * width, s = long(di) * width + dj;
  shifted_copy(x, s, std::clamp(-s, 0L, P), std::clamp(P - s, 0L, P), P, o);
  zero_columns(o, height, width, std::max(0, -dj), std::min(width, width - dj));
}

// Its adjoint, accumulated: dx[q + s] += o[q] over the valid positions (o's wrapped columns are
// zeroed first; o is scratch). With `first`, dx = instead of += (the centre offset s = 0 of a
// same-padded kernel covers every position, so col2im starts with it and needs no zeroing).
void UnshiftAdd(float* o, int height, int width, int di, int dj, bool first, float* dx) {
  const long P = long(height) * width, s = long(di) * width + dj;
  zero_columns(o, height, width, std::max(0, -dj), std::min(width, width - dj));
  const long lo = std::clamp(-s, 0L, P), hi = std::clamp(P - s, 0L, P);
  if (first) {
    shifted_copy(o, -s, lo + s, hi + s, P, dx);
    return;
  }
  if (hi > lo)
    update2(o + lo, dx + lo + s, std::size_t(hi - lo),
            [](auto, auto v, auto acc) HWY_ATTR { return hn::Add(acc, v); });
}

// One channel of im2col_same: xp = the middle of a zero-margined copy of the plane; row k =
// xp shifted by s_k, masked by its column mask. Rows are written in whole vectors (up to a
// vector past their end: the next row, or the caller's slack, takes it).
void ShiftRows(const float* x, float* xp, const float* masks, long mask_stride, int kernel, int pad,
               int height, int width, float* rows) {
  const long P = long(height) * width;
  const hn::ScalableTag<float> d;
  const hn::CappedTag<float, 1> d1;
  const long lanes = long(hn::Lanes(d));
  long q = 0;
  for (; q + lanes <= P; q += lanes) hn::StoreU(hn::LoadU(d, x + q), d, xp + q);
  for (; q < P; ++q) hn::StoreU(hn::LoadU(d1, x + q), d1, xp + q);  // the margin stays zero
  for (int k = 0; k < kernel * kernel; ++k) {
    const int di = k / kernel - pad, dj = k % kernel - pad;
    const float* src = xp + long(di) * width + dj;
    const float* mask = masks + (dj + pad) * mask_stride;
    float* o = rows + k * P;
    for (q = 0; q < P; q += lanes)
      hn::StoreU(hn::Mul(hn::LoadU(d, src + q), hn::LoadU(d, mask + q)), d, o + q);
  }
}

// One channel of col2im_same: dx[q] = Σ_dj mask'_dj[q] · Σ_di row_(di,dj)[q − s], where a row
// value counts only if it did not wrap around a row edge: column(q) − dj inside the row, which is
// the mask of −dj. Exact length: dx is the caller's.
void GatherRows(const float* rows, long stride, const float* masks, long mask_stride, int kernel,
                int pad, int height, int width, float* dx) {
  const long P = long(height) * width;
  const hn::ScalableTag<float> d;
  const hn::CappedTag<float, 1> d1;
  const long lanes = long(hn::Lanes(d));
  auto at = [&](auto tag, long q) HWY_ATTR {
    auto acc = hn::Zero(tag);
    for (int dj = -pad; dj <= pad; ++dj) {
      auto part = hn::Zero(tag);
      for (int di = -pad; di <= pad; ++di) {
        const int k = (di + pad) * kernel + dj + pad;
        part = hn::Add(part, hn::LoadU(tag, rows + k * stride + q - (long(di) * width + dj)));
      }
      acc = hn::MulAdd(part, hn::LoadU(tag, masks + (pad - dj) * mask_stride + q), acc);
    }
    hn::StoreU(acc, tag, dx + q);
  };
  long q = 0;
  for (; q + lanes <= P; q += lanes) at(d, q);
  for (; q < P; ++q) at(d1, q);
}

void AddChannelBias(float* y, const float* b, std::size_t n, std::size_t channels,
                    std::size_t plane) {
  for (std::size_t s = 0; s < n; ++s)
    for (std::size_t c = 0; c < channels; ++c) {
      float* p = y + (s * channels + c) * plane;
      const float bias = b[c];
      update2(p, p, plane,
              [bias](auto d, auto v, auto) HWY_ATTR { return hn::Add(v, hn::Set(d, bias)); });
    }
}

void AddChannelBiasRelu(float* y, const float* b, std::size_t channels, std::size_t plane) {
  for (std::size_t c = 0; c < channels; ++c) {
    float* p = y + c * plane;
    const float bias = b[c];
    update2(p, p, plane, [bias](auto d, auto v, auto) HWY_ATTR {
      return hn::Max(hn::Add(v, hn::Set(d, bias)), hn::Zero(d));
    });
  }
}

void ReluMaskSums(const float* y, const float* dy, std::size_t channels, std::size_t plane,
                  float* out, float* sums) {
  const hn::ScalableTag<float> d;
  const hn::CappedTag<float, 1> d1;
  const std::size_t lanes = hn::Lanes(d);
  for (std::size_t c = 0; c < channels; ++c) {
    const float *a = y + c * plane, *g = dy + c * plane;
    float* o = out + c * plane;
    auto acc = hn::Zero(d);
    std::size_t i = 0;
    for (; i + lanes <= plane; i += lanes) {
      const auto v =
          hn::IfThenElseZero(hn::Gt(hn::LoadU(d, a + i), hn::Zero(d)), hn::LoadU(d, g + i));
      hn::StoreU(v, d, o + i);
      acc = hn::Add(acc, v);
    }
    float s = hn::GetLane(hn::SumOfLanes(d, acc));
    for (; i < plane; ++i) {
      const auto v =
          hn::IfThenElseZero(hn::Gt(hn::LoadU(d1, a + i), hn::Zero(d1)), hn::LoadU(d1, g + i));
      hn::StoreU(v, d1, o + i);
      s += hn::GetLane(v);
    }
    sums[c] += s;
  }
}

void ChannelSums(const float* a, std::size_t n, std::size_t channels, std::size_t plane,
                 float* out) {
  for (std::size_t c = 0; c < channels; ++c) out[c] = 0;
  for (std::size_t s = 0; s < n; ++s)
    for (std::size_t c = 0; c < channels; ++c) out[c] += sum(a + (s * channels + c) * plane, plane);
}

}  // namespace kiln::kernels::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#endif
