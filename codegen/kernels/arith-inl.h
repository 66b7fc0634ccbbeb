// Per-target bodies of arith.hpp.
#if defined(KILN_CODEGEN_KERNELS_ARITH_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef KILN_CODEGEN_KERNELS_ARITH_INL_H_
#undef KILN_CODEGEN_KERNELS_ARITH_INL_H_
#else
#define KILN_CODEGEN_KERNELS_ARITH_INL_H_
#endif

#include <hwy/highway.h>

HWY_BEFORE_NAMESPACE();
namespace kiln::kernels::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// out[i] = f(d, a[i], b[i]) for i < n: full vectors, then single lanes.
template <class F>
HWY_INLINE void zip(const float* a, const float* b, float* out, std::size_t n, F f) {
  const hn::ScalableTag<float> d;
  const hn::CappedTag<float, 1> d1;
  std::size_t i = 0;
  for (; i + hn::Lanes(d) <= n; i += hn::Lanes(d))
    hn::StoreU(f(d, hn::LoadU(d, a + i), hn::LoadU(d, b + i)), d, out + i);
  for (; i < n; ++i) hn::StoreU(f(d1, hn::LoadU(d1, a + i), hn::LoadU(d1, b + i)), d1, out + i);
}

void Add(const float* a, const float* b, float* out, std::size_t n) {
  zip(a, b, out, n, [](auto, auto u, auto v) HWY_ATTR { return hn::Add(u, v); });
}
void AddScaled(const float* a, float k, const float* b, float* out, std::size_t n) {
  zip(a, b, out, n,
      [k](auto d, auto u, auto v) HWY_ATTR { return hn::MulAdd(v, hn::Set(d, k), u); });
}
void Mul(const float* a, const float* b, float* out, std::size_t n) {
  zip(a, b, out, n, [](auto, auto u, auto v) HWY_ATTR { return hn::Mul(u, v); });
}
void Scale(const float* a, float k, float* out, std::size_t n) {
  zip(a, a, out, n, [k](auto d, auto u, auto) HWY_ATTR { return hn::Mul(u, hn::Set(d, k)); });
}

}  // namespace kiln::kernels::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#endif
