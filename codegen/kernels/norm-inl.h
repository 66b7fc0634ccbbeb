// Per-target bodies of norm.hpp. Images (plane > 1) run vectors along each plane; flat inputs
// (plane = 1) run vectors across the channels of a sample.
#if defined(KILN_CODEGEN_KERNELS_NORM_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef KILN_CODEGEN_KERNELS_NORM_INL_H_
#undef KILN_CODEGEN_KERNELS_NORM_INL_H_
#else
#define KILN_CODEGEN_KERNELS_NORM_INL_H_
#endif

#include <hwy/highway.h>

HWY_BEFORE_NAMESPACE();
namespace kiln::kernels::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// f(d, i) over [0, n) in full vectors, then single lanes.
template <class F>
HWY_INLINE void lanes_of(std::size_t n, F f) {
  const hn::ScalableTag<float> d;
  const hn::CappedTag<float, 1> d1;
  std::size_t i = 0;
  for (; i + hn::Lanes(d) <= n; i += hn::Lanes(d)) f(d, i);
  for (; i < n; ++i) f(d1, i);
}

// Σ f(d, i) over [0, n) (f returns a vector), as a float.
template <class F>
HWY_INLINE float reduce(std::size_t n, F f) {
  const hn::ScalableTag<float> d;
  const hn::CappedTag<float, 1> d1;
  auto acc = hn::Zero(d);
  std::size_t i = 0;
  for (; i + hn::Lanes(d) <= n; i += hn::Lanes(d)) acc = hn::Add(acc, f(d, i));
  float s = hn::GetLane(hn::SumOfLanes(d, acc));
  for (; i < n; ++i) s += hn::GetLane(f(d1, i));
  return s;
}

void ChannelMoments(const float* x, std::size_t n, std::size_t channels, std::size_t plane,
                    float* mean, float* var) {
  const double m = double(n * plane);
  if (plane == 1) {  // columns of an n × channels matrix
    for (std::size_t c = 0; c < channels; ++c) {
      double s = 0;
      for (std::size_t r = 0; r < n; ++r) s += x[r * channels + c];
      mean[c] = float(s / m);
      double q = 0;
      for (std::size_t r = 0; r < n; ++r) {
        const double e = double(x[r * channels + c]) - mean[c];
        q += e * e;
      }
      var[c] = float(q / m);
    }
    return;
  }
  for (std::size_t c = 0; c < channels; ++c) {
    double s = 0;
    for (std::size_t r = 0; r < n; ++r) {
      const float* p = x + (r * channels + c) * plane;
      s += reduce(plane, [p](auto d, std::size_t i) HWY_ATTR { return hn::LoadU(d, p + i); });
    }
    mean[c] = float(s / m);
    const float mu = mean[c];
    double q = 0;
    for (std::size_t r = 0; r < n; ++r) {
      const float* p = x + (r * channels + c) * plane;
      q += reduce(plane, [p, mu](auto d, std::size_t i) HWY_ATTR {
        const auto e = hn::Sub(hn::LoadU(d, p + i), hn::Set(d, mu));
        return hn::Mul(e, e);
      });
    }
    var[c] = float(q / m);
  }
}

void ChannelAffine(const float* x, const float* a, const float* b, std::size_t n,
                   std::size_t channels, std::size_t plane, float* y) {
  if (plane == 1) {
    for (std::size_t r = 0; r < n; ++r) {
      const float* in = x + r * channels;
      float* out = y + r * channels;
      lanes_of(channels, [&](auto d, std::size_t i) HWY_ATTR {
        hn::StoreU(hn::MulAdd(hn::LoadU(d, in + i), hn::LoadU(d, a + i), hn::LoadU(d, b + i)), d,
                   out + i);
      });
    }
    return;
  }
  for (std::size_t r = 0; r < n; ++r)
    for (std::size_t c = 0; c < channels; ++c) {
      const float* in = x + (r * channels + c) * plane;
      float* out = y + (r * channels + c) * plane;
      const float ac = a[c], bc = b[c];
      lanes_of(plane, [&](auto d, std::size_t i) HWY_ATTR {
        hn::StoreU(hn::MulAdd(hn::LoadU(d, in + i), hn::Set(d, ac), hn::Set(d, bc)), d, out + i);
      });
    }
}

void ChannelDot(const float* x, const float* dy, const float* center, std::size_t n,
                std::size_t channels, std::size_t plane, float* sum_dy, float* sum_dy_x) {
  if (plane == 1) {
    for (std::size_t c = 0; c < channels; ++c) {
      double s = 0, t = 0;
      for (std::size_t r = 0; r < n; ++r) {
        const double g = dy[r * channels + c];
        s += g;
        t += g * (double(x[r * channels + c]) - center[c]);
      }
      sum_dy[c] = float(s), sum_dy_x[c] = float(t);
    }
    return;
  }
  for (std::size_t c = 0; c < channels; ++c) {
    double s = 0, t = 0;
    const float mu = center[c];
    for (std::size_t r = 0; r < n; ++r) {
      const float* p = x + (r * channels + c) * plane;
      const float* g = dy + (r * channels + c) * plane;
      s += reduce(plane, [g](auto d, std::size_t i) HWY_ATTR { return hn::LoadU(d, g + i); });
      t += reduce(plane, [p, g, mu](auto d, std::size_t i) HWY_ATTR {
        return hn::Mul(hn::LoadU(d, g + i), hn::Sub(hn::LoadU(d, p + i), hn::Set(d, mu)));
      });
    }
    sum_dy[c] = float(s), sum_dy_x[c] = float(t);
  }
}

void ChannelAffine2(const float* dy, const float* x, const float* a, const float* b, const float* k,
                    std::size_t n, std::size_t channels, std::size_t plane, float* dx) {
  if (plane == 1) {
    for (std::size_t r = 0; r < n; ++r) {
      const float* g = dy + r * channels;
      const float* in = x + r * channels;
      float* out = dx + r * channels;
      lanes_of(channels, [&](auto d, std::size_t i) HWY_ATTR {
        const auto v = hn::MulAdd(hn::LoadU(d, in + i), hn::LoadU(d, b + i), hn::LoadU(d, k + i));
        hn::StoreU(hn::MulAdd(hn::LoadU(d, g + i), hn::LoadU(d, a + i), v), d, out + i);
      });
    }
    return;
  }
  for (std::size_t r = 0; r < n; ++r)
    for (std::size_t c = 0; c < channels; ++c) {
      const std::size_t at = (r * channels + c) * plane;
      const float ac = a[c], bc = b[c], kc = k[c];
      lanes_of(plane, [&](auto d, std::size_t i) HWY_ATTR {
        const auto v = hn::MulAdd(hn::LoadU(d, x + at + i), hn::Set(d, bc), hn::Set(d, kc));
        hn::StoreU(hn::MulAdd(hn::LoadU(d, dy + at + i), hn::Set(d, ac), v), d, dx + at + i);
      });
    }
}

}  // namespace kiln::kernels::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#endif
