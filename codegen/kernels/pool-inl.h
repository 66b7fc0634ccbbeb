// Per-target bodies of pool.hpp's 2×2 kernels. A row of outputs no wider than a vector runs as one
// full vector (row()); wider rows, and the call's last rows, in vectors as wide as fit (full, 8,
// 4, 2 lanes), then single lanes.
#if defined(KILN_CODEGEN_KERNELS_POOL_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef KILN_CODEGEN_KERNELS_POOL_INL_H_
#undef KILN_CODEGEN_KERNELS_POOL_INL_H_
#else
#define KILN_CODEGEN_KERNELS_POOL_INL_H_
#endif

#include <hwy/highway.h>

#include <algorithm>
#include <cstdint>
#include <type_traits>

#include "kiln/codegen/engine/bf16-inl.h"  // StoreBF16: the unpooled gradient in bf16

HWY_BEFORE_NAMESPACE();
namespace kiln::kernels::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// f(d, j) for j = 0, then j += Lanes(d), over [0, n): widest vectors first.
template <class F>
HWY_INLINE void ladder(std::size_t n, F f) {
  std::size_t j = 0;
  const hn::ScalableTag<float> d;
  for (; j + hn::Lanes(d) <= n; j += hn::Lanes(d)) f(d, j);
  const hn::CappedTag<float, 8> d8;
  for (; j + hn::Lanes(d8) <= n; j += hn::Lanes(d8)) f(d8, j);
  const hn::CappedTag<float, 4> d4;
  for (; j + hn::Lanes(d4) <= n; j += hn::Lanes(d4)) f(d4, j);
  const hn::CappedTag<float, 2> d2;
  for (; j + hn::Lanes(d2) <= n; j += hn::Lanes(d2)) f(d2, j);
  const hn::CappedTag<float, 1> d1;
  for (; j < n; ++j) f(d1, j);
}

// One output row of a 2×2 kernel: f(d, j) over [0, wo). A row no wider than a vector takes one
// full vector when `room` says that what the vector reads and writes past the row's end lies
// inside the call's buffers. Those values belong to later rows (or to a row or column no window
// covers), which the call writes after this one, so no wrong value survives. Otherwise the
// ladder. On AVX-512 the peer CNN's rows of 14 and 7 outputs take one vector instead of three
// (8+4+2, 4+2+1 lanes).
template <class F>
HWY_INLINE void row(std::size_t wo, bool room, F f) {
  const hn::ScalableTag<float> d;
  if (room && wo <= hn::Lanes(d))
    f(d, 0);
  else
    ladder(wo, f);
}

// Whether a row's one full vector stays inside the buffers: it reads or writes 2·lanes floats
// from `pair` (the row's lower input row, which ends the window pair) and lanes floats from
// `pooled` (the row's outputs); each ends where its buffer ends at most.
HWY_INLINE bool room(const float* pair, const float* pair_end, const float* pooled,
                     const float* pooled_end) {
  const std::size_t lanes = hn::Lanes(hn::ScalableTag<float>());
  return std::size_t(pair_end - pair) >= 2 * lanes && std::size_t(pooled_end - pooled) >= lanes;
}

void MaxPool2x2(const float* x, std::size_t planes, int height, int width, float* y, float* which) {
  const std::size_t ho = std::size_t(height / 2), wo = std::size_t(width / 2);
  const float* x_end = x + planes * std::size_t(height) * std::size_t(width);
  const float* y_end = y + planes * ho * wo;
  for (std::size_t p = 0; p < planes; ++p)
    for (std::size_t i = 0; i < ho; ++i) {
      const float* top = x + (p * height + 2 * i) * width;
      const float* bottom = top + width;
      float* out = y + (p * ho + i) * wo;
      float* code = which + (p * ho + i) * wo;
      row(wo, room(bottom, x_end, out, y_end), [&](auto d, std::size_t j) HWY_ATTR {
        hn::Vec<decltype(d)> a, b, c, e;
        hn::LoadInterleaved2(d, top + 2 * j, a, b);
        hn::LoadInterleaved2(d, bottom + 2 * j, c, e);
        auto m = a, k = hn::Zero(d);
        auto take = [&](auto v, float id) HWY_ATTR {
          const auto more = hn::Gt(v, m);
          m = hn::IfThenElse(more, v, m);
          k = hn::IfThenElse(more, hn::Set(d, id), k);
        };
        take(b, 1), take(c, 2), take(e, 3);
        hn::StoreU(m, d, out + j);
        hn::StoreU(k, d, code + j);
      });
    }
}

// Rows and columns no window covers (odd sizes) get zeros.
HWY_INLINE void zero_uncovered(std::size_t planes, int height, int width, float* dx) {
  if (width % 2)
    for (std::size_t r = 0; r < planes * std::size_t(height); ++r) dx[r * width + width - 1] = 0;
  if (height % 2)
    for (std::size_t p = 0; p < planes; ++p) {
      float* last = dx + (p * height + height - 1) * width;
      for (int j = 0; j < width; ++j) last[j] = 0;
    }
}

void MaxPool2x2Backward(const float* which, const float* dy, std::size_t planes, int height,
                        int width, float* dx) {
  const std::size_t ho = std::size_t(height / 2), wo = std::size_t(width / 2);
  const float* dx_end = dx + planes * std::size_t(height) * std::size_t(width);
  const std::size_t pooled = planes * ho * wo;
  for (std::size_t p = 0; p < planes; ++p)
    for (std::size_t i = 0; i < ho; ++i) {
      float* top = dx + (p * height + 2 * i) * width;
      float* bottom = top + width;
      const float* g = dy + (p * ho + i) * wo;
      const float* code = which + (p * ho + i) * wo;
      row(wo, room(bottom, dx_end, g, dy + pooled), [&](auto d, std::size_t j) HWY_ATTR {
        const auto v = hn::LoadU(d, g + j), k = hn::LoadU(d, code + j);
        auto at = [&](float id)
                      HWY_ATTR { return hn::IfThenElseZero(hn::Eq(k, hn::Set(d, id)), v); };
        hn::StoreInterleaved2(at(0), at(1), d, top + 2 * j);
        hn::StoreInterleaved2(at(2), at(3), d, bottom + 2 * j);
      });
    }
  zero_uncovered(planes, height, width, dx);
}

// Σ dy[i] over the i < n with y[i] > 0, in float with one accumulator per lane.
HWY_INLINE float MaskedPlaneSum(const float* y, const float* dy, std::size_t n) {
  const hn::ScalableTag<float> d;
  const std::size_t lanes = hn::Lanes(d);
  auto acc = hn::Zero(d);
  std::size_t i = 0;
  for (; i + lanes <= n; i += lanes)
    acc = hn::Add(
        acc, hn::IfThenElseZero(hn::Gt(hn::LoadU(d, y + i), hn::Zero(d)), hn::LoadU(d, dy + i)));
  float total = hn::GetLane(hn::SumOfLanes(d, acc));
  for (; i < n; ++i) total += y[i] > 0 ? dy[i] : 0.0f;
  return total;
}

void MaxPool2x2BackwardRelu(const float* which, const float* y, const float* dy, std::size_t planes,
                            int height, int width, float* dx, float* sums) {
  const std::size_t ho = std::size_t(height / 2), wo = std::size_t(width / 2);
  const float* dx_end = dx + planes * std::size_t(height) * std::size_t(width);
  const std::size_t pooled = planes * ho * wo;
  for (std::size_t p = 0; p < planes; ++p) {
    for (std::size_t i = 0; i < ho; ++i) {
      float* top = dx + (p * height + 2 * i) * width;
      float* bottom = top + width;
      const std::size_t at = (p * ho + i) * wo;
      row(wo, room(bottom, dx_end, y + at, y + pooled), [&](auto d, std::size_t j) HWY_ATTR {
        const auto live = hn::Gt(hn::LoadU(d, y + at + j), hn::Zero(d));  // the ReLU's mask
        const auto v = hn::IfThenElseZero(live, hn::LoadU(d, dy + at + j));
        const auto k = hn::LoadU(d, which + at + j);
        auto pick = [&](float id)
                        HWY_ATTR { return hn::IfThenElseZero(hn::Eq(k, hn::Set(d, id)), v); };
        hn::StoreInterleaved2(pick(0), pick(1), d, top + 2 * j);
        hn::StoreInterleaved2(pick(2), pick(3), d, bottom + 2 * j);
      });
    }
    // The bias gradient: the plane's masked dy summed in one pass over its contiguous ho·wo
    // values (in cache), one horizontal sum per plane instead of one per row and width.
    sums[p] += MaskedPlaneSum(y + p * ho * wo, dy + p * ho * wo, ho * wo);
  }
  zero_uncovered(planes, height, width, dx);
}

// The blocked kernels: a tag whose lanes divide the block (oneDNN's 16, 8 or 4 channels).
template <class F>
HWY_INLINE void in_block(std::size_t block, F f) {
  const hn::ScalableTag<float> d;
  const hn::CappedTag<float, 8> d8;
  const hn::CappedTag<float, 4> d4;
  const hn::CappedTag<float, 1> d1;
  if (block % hn::Lanes(d) == 0)
    f(d);
  else if (block % hn::Lanes(d8) == 0)
    f(d8);
  else if (block % hn::Lanes(d4) == 0)
    f(d4);
  else
    f(d1);
}

void BiasReluMaxPool2x2Blocked(const float* x, const float* bias, std::size_t samples,
                               std::size_t groups, std::size_t block, int height, int width,
                               float* y, float* which) {
  const std::size_t ho = std::size_t(height / 2), wo = std::size_t(width / 2);
  const std::size_t w = std::size_t(width), plane = std::size_t(height) * w;
  in_block(block, [&](auto d) HWY_ATTR {
    const std::size_t lanes = hn::Lanes(d);
    for (std::size_t g = 0; g < samples * groups; ++g)
      for (std::size_t c = 0; c < block; c += lanes) {
        const auto b = hn::LoadU(d, bias + (g % groups) * block + c);
        const float* in = x + g * plane * block + c;
        float* out = y + g * ho * wo * block + c;
        float* code = which + g * ho * wo * block + c;
        for (std::size_t i = 0; i < ho; ++i)
          for (std::size_t j = 0; j < wo; ++j) {
            const float* at = in + ((2 * i) * w + 2 * j) * block;
            // The bias first, as the unblocked kernels add it before the ReLU and the pool: the
            // same rounded values are compared, so the same window position wins.
            auto m = hn::Add(hn::LoadU(d, at), b), k = hn::Zero(d);
            auto take = [&](const float* v, float id) HWY_ATTR {
              const auto a = hn::Add(hn::LoadU(d, v), b);
              const auto more = hn::Gt(a, m);
              m = hn::IfThenElse(more, a, m);
              k = hn::IfThenElse(more, hn::Set(d, id), k);
            };
            take(at + block, 1), take(at + w * block, 2), take(at + (w + 1) * block, 3);
            const std::size_t o = (i * wo + j) * block;
            hn::StoreU(hn::Max(m, hn::Zero(d)), d, out + o);
            hn::StoreU(k, d, code + o);
          }
      }
  });
}

// dx as f32 (float) or rounded to bf16 (std::uint16_t, as engine::to_bf16 rounds).
template <class T>
HWY_INLINE void MaxUnpool2x2BlockedTo(const float* which, const float* dy, std::size_t blocks,
                                      std::size_t block, int height, int width, T* dx) {
  const std::size_t ho = std::size_t(height / 2), wo = std::size_t(width / 2);
  const std::size_t w = std::size_t(width), plane = std::size_t(height) * w;
  in_block(block, [&](auto d) HWY_ATTR {
    const std::size_t lanes = hn::Lanes(d);
    auto store = [&](auto v, T* p) HWY_ATTR {
      if constexpr (std::is_same_v<T, float>)
        hn::StoreU(v, d, p);
      else
        engine::HWY_NAMESPACE::StoreBF16(d, v, p);
    };
    for (std::size_t g = 0; g < blocks; ++g) {
      T* out = dx + g * plane * block;
      // Cells no window covers (odd sizes): the last column, the last row.
      if (width % 2)
        for (std::size_t r = 0; r < std::size_t(height); ++r)
          std::fill(out + (r * w + w - 1) * block, out + (r * w + w) * block, T(0));
      if (height % 2) std::fill(out + (plane - w) * block, out + plane * block, T(0));
      for (std::size_t c = 0; c < block; c += lanes) {
        const float* g_in = dy + g * ho * wo * block + c;
        const float* code = which + g * ho * wo * block + c;
        for (std::size_t i = 0; i < ho; ++i)
          for (std::size_t j = 0; j < wo; ++j) {
            const std::size_t o = (i * wo + j) * block;
            const auto v = hn::LoadU(d, g_in + o), k = hn::LoadU(d, code + o);
            T* at = out + ((2 * i) * w + 2 * j) * block + c;
            auto put = [&](T* p, float id)
                           HWY_ATTR { store(hn::IfThenElseZero(hn::Eq(k, hn::Set(d, id)), v), p); };
            put(at, 0), put(at + block, 1), put(at + w * block, 2), put(at + (w + 1) * block, 3);
          }
      }
    }
  });
}

void MaxUnpool2x2Blocked(const float* which, const float* dy, std::size_t blocks, std::size_t block,
                         int height, int width, float* dx) {
  MaxUnpool2x2BlockedTo(which, dy, blocks, block, height, width, dx);
}
void MaxUnpool2x2BlockedBF16(const float* which, const float* dy, std::size_t blocks,
                             std::size_t block, int height, int width, std::uint16_t* dx) {
  MaxUnpool2x2BlockedTo(which, dy, blocks, block, height, width, dx);
}

void AvgPool2x2(const float* x, std::size_t planes, int height, int width, float* y) {
  const std::size_t ho = std::size_t(height / 2), wo = std::size_t(width / 2);
  const float* x_end = x + planes * std::size_t(height) * std::size_t(width);
  const float* y_end = y + planes * ho * wo;
  for (std::size_t p = 0; p < planes; ++p)
    for (std::size_t i = 0; i < ho; ++i) {
      const float* top = x + (p * height + 2 * i) * width;
      const float* bottom = top + width;
      float* out = y + (p * ho + i) * wo;
      row(wo, room(bottom, x_end, out, y_end), [&](auto d, std::size_t j) HWY_ATTR {
        hn::Vec<decltype(d)> a, b, c, e;
        hn::LoadInterleaved2(d, top + 2 * j, a, b);
        hn::LoadInterleaved2(d, bottom + 2 * j, c, e);
        const auto s = hn::Add(hn::Add(a, b), hn::Add(c, e));
        hn::StoreU(hn::Mul(s, hn::Set(d, 0.25f)), d, out + j);
      });
    }
}

void AvgPool2x2Backward(const float* dy, std::size_t planes, int height, int width, float* dx) {
  const std::size_t ho = std::size_t(height / 2), wo = std::size_t(width / 2);
  const float* dx_end = dx + planes * std::size_t(height) * std::size_t(width);
  const std::size_t pooled = planes * ho * wo;
  for (std::size_t p = 0; p < planes; ++p)
    for (std::size_t i = 0; i < ho; ++i) {
      float* top = dx + (p * height + 2 * i) * width;
      float* bottom = top + width;
      const float* g = dy + (p * ho + i) * wo;
      row(wo, room(bottom, dx_end, g, dy + pooled), [&](auto d, std::size_t j) HWY_ATTR {
        const auto v = hn::Mul(hn::LoadU(d, g + j), hn::Set(d, 0.25f));
        hn::StoreInterleaved2(v, v, d, top + 2 * j);
        hn::StoreInterleaved2(v, v, d, bottom + 2 * j);
      });
    }
  zero_uncovered(planes, height, width, dx);
}

void GlobalAvgPool(const float* x, std::size_t planes, std::size_t plane, float* y) {
  const hn::ScalableTag<float> d;
  const std::size_t lanes = hn::Lanes(d);
  for (std::size_t p = 0; p < planes; ++p) {
    const float* a = x + p * plane;
    auto acc = hn::Zero(d);
    std::size_t i = 0;
    for (; i + lanes <= plane; i += lanes) acc = hn::Add(acc, hn::LoadU(d, a + i));
    float s = hn::GetLane(hn::SumOfLanes(d, acc));
    for (; i < plane; ++i) s += a[i];
    y[p] = s / float(plane);
  }
}

void GlobalAvgPoolBackward(const float* dy, std::size_t planes, std::size_t plane, float* dx) {
  const hn::ScalableTag<float> d;
  const std::size_t lanes = hn::Lanes(d);
  for (std::size_t p = 0; p < planes; ++p) {
    float* a = dx + p * plane;
    const float g = dy[p] / float(plane);
    std::size_t i = 0;
    for (; i + lanes <= plane; i += lanes) hn::StoreU(hn::Set(d, g), d, a + i);
    for (; i < plane; ++i) a[i] = g;
  }
}

}  // namespace kiln::kernels::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#endif
