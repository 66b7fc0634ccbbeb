// Per-target bodies of conv.hpp: the per-channel bias (with the ReLU) and sums.
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
