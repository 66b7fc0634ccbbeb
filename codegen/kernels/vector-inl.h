// Per-target bodies of vector.hpp: the vector algebra of the full-batch solvers, for float and
// double elements. Element-wise results are rounded to the element type (as PyTorch's in-place
// ops); every sum accumulates in double. Kernels that also sum work on element vectors with as
// many lanes as a double vector, so each value widens to double without shuffles; the remainder
// runs one lane at a time through the same body, so no target reads or writes past the end.
#if defined(KILN_CODEGEN_KERNELS_VECTOR_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef KILN_CODEGEN_KERNELS_VECTOR_INL_H_
#undef KILN_CODEGEN_KERNELS_VECTOR_INL_H_
#else
#define KILN_CODEGEN_KERNELS_VECTOR_INL_H_
#endif

#include <hwy/highway.h>

#include <algorithm>
#include <cstddef>
#include <type_traits>

#include "kiln/codegen/kernels/vector.hpp"

HWY_BEFORE_NAMESPACE();
namespace kiln::kernels::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// v as doubles (a no-op for double elements).
template <class DD, class V>
HWY_INLINE hn::Vec<DD> Wide(DD dd, V v) {
  if constexpr (std::is_same_v<hn::TFromV<V>, double>) {
    (void)dd;
    return v;
  } else {
    return hn::PromoteTo(dd, v);
  }
}

// Runs body(dd, dt, i, sum0, sum1) over [0, n): dd a double tag, dt the element tag with the
// same lanes, i the first element of the chunk; the body adds to the two double sums it is
// given. Returns both sums.
template <class T, class Body>
HWY_INLINE sums Accumulate(std::size_t n, Body body) {
  const hn::ScalableTag<double> dd;
  const hn::Rebind<T, decltype(dd)> dt;
  const hn::CappedTag<double, 1> d1;
  const hn::Rebind<T, decltype(d1)> t1;
  const std::size_t lanes = hn::Lanes(dd);
  auto s0 = hn::Zero(dd), s1 = hn::Zero(dd);
  std::size_t i = 0;
  for (; i + lanes <= n; i += lanes) body(dd, dt, i, s0, s1);
  auto r0 = hn::Zero(d1), r1 = hn::Zero(d1);
  for (; i < n; ++i) body(d1, t1, i, r0, r1);
  return {hn::GetLane(hn::SumOfLanes(dd, s0)) + hn::GetLane(r0),
          hn::GetLane(hn::SumOfLanes(dd, s1)) + hn::GetLane(r1)};
}

// Runs body(d, i) over [0, n) with full element vectors, then one lane at a time.
template <class T, class Body>
HWY_INLINE void Each(std::size_t n, Body body) {
  const hn::ScalableTag<T> d;
  const hn::CappedTag<T, 1> d1;
  const std::size_t lanes = hn::Lanes(d);
  std::size_t i = 0;
  for (; i + lanes <= n; i += lanes) body(d, i);
  for (; i < n; ++i) body(d1, i);
}

template <class T>
HWY_NOINLINE double Dot(const T* a, const T* b, std::size_t n) {
  return Accumulate<T>(n,
                       [&](auto dd, auto dt, std::size_t i, auto& s, auto&) HWY_ATTR {
                         s = hn::MulAdd(Wide(dd, hn::LoadU(dt, a + i)),
                                        Wide(dd, hn::LoadU(dt, b + i)), s);
                       })
      .first;
}

template <class T>
HWY_NOINLINE void Axpy(T a, const T* x, T* y, std::size_t n) {
  Each<T>(n, [&](auto d, std::size_t i) HWY_ATTR {
    hn::StoreU(hn::MulAdd(hn::Set(d, a), hn::LoadU(d, x + i), hn::LoadU(d, y + i)), d, y + i);
  });
}

template <class T>
HWY_NOINLINE void Scale(T a, const T* x, T* y, std::size_t n) {
  Each<T>(n, [&](auto d, std::size_t i)
                 HWY_ATTR { hn::StoreU(hn::Mul(hn::Set(d, a), hn::LoadU(d, x + i)), d, y + i); });
}

template <class T>
HWY_NOINLINE double AbsMax(const T* x, std::size_t n) {
  const hn::ScalableTag<T> d;
  const hn::CappedTag<T, 1> d1;
  const std::size_t lanes = hn::Lanes(d);
  auto m = hn::Zero(d);
  std::size_t i = 0;
  for (; i + lanes <= n; i += lanes) m = hn::Max(m, hn::Abs(hn::LoadU(d, x + i)));
  T best = hn::GetLane(hn::MaxOfLanes(d, m));
  for (; i < n; ++i) best = std::max(best, T(hn::GetLane(hn::Abs(hn::LoadU(d1, x + i)))));
  return double(best);
}

template <class T>
HWY_NOINLINE double AbsSum(const T* x, std::size_t n) {
  return Accumulate<T>(n, [&](auto dd, auto dt, std::size_t i, auto& s, auto&)
                              HWY_ATTR { s = hn::Add(s, Wide(dd, hn::Abs(hn::LoadU(dt, x + i)))); })
      .first;
}

// y = a·x (or y += a·x), then z·y when z is given. The two-loop recursion chains these so that
// each of its steps is one pass over memory.
template <bool Accumulating, class D, class T>
HWY_INLINE hn::Vec<D> Update(D d, T a, const T* x, const T* y, std::size_t i) {
  if constexpr (Accumulating)
    return hn::MulAdd(hn::Set(d, a), hn::LoadU(d, x + i), hn::LoadU(d, y + i));
  else
    return hn::Mul(hn::Set(d, a), hn::LoadU(d, x + i));
}

template <class T, bool Accumulating>
HWY_INLINE double UpdateDot(T a, const T* x, T* y, const T* z, std::size_t n) {
  if (z == nullptr) {
    Each<T>(n, [&](auto d, std::size_t i)
                   HWY_ATTR { hn::StoreU(Update<Accumulating>(d, a, x, y, i), d, y + i); });
    return 0;
  }
  return Accumulate<T>(n,
                       [&](auto dd, auto dt, std::size_t i, auto& s, auto&) HWY_ATTR {
                         const auto v = Update<Accumulating>(dt, a, x, y, i);
                         hn::StoreU(v, dt, y + i);
                         s = hn::MulAdd(Wide(dd, v), Wide(dd, hn::LoadU(dt, z + i)), s);
                       })
      .first;
}

template <class T>
HWY_NOINLINE double AxpyDot(T a, const T* x, T* y, const T* z, std::size_t n) {
  return UpdateDot<T, true>(a, x, y, z, n);
}

template <class T>
HWY_NOINLINE double ScaleDot(T a, const T* x, T* y, const T* z, std::size_t n) {
  return UpdateDot<T, false>(a, x, y, z, n);
}

template <class T>
HWY_NOINLINE sums CurvaturePair(const T* g, const T* g_prev, const T* d, T t, T* y, T* s,
                                std::size_t n) {
  return Accumulate<T>(n, [&](auto dd, auto dt, std::size_t i, auto& ys, auto& yy) HWY_ATTR {
    const auto vy = hn::Sub(hn::LoadU(dt, g + i), hn::LoadU(dt, g_prev + i));
    const auto vs = hn::Mul(hn::LoadU(dt, d + i), hn::Set(dt, t));
    hn::StoreU(vy, dt, y + i);
    hn::StoreU(vs, dt, s + i);
    const auto wy = Wide(dd, vy);
    ys = hn::MulAdd(wy, Wide(dd, vs), ys);
    yy = hn::MulAdd(wy, wy, yy);
  });
}

template <class T>
HWY_NOINLINE double FiniteDifference(const T* g_h, const T* g, const T* v, T inv_h, T damping,
                                     T* hv, std::size_t n) {
  return Accumulate<T>(n,
                       [&](auto dd, auto dt, std::size_t i, auto& s, auto&) HWY_ATTR {
                         const auto vv = hn::LoadU(dt, v + i);
                         const auto diff = hn::Sub(hn::LoadU(dt, g_h + i), hn::LoadU(dt, g + i));
                         const auto out = hn::MulAdd(diff, hn::Set(dt, inv_h),
                                                     hn::Mul(vv, hn::Set(dt, damping)));
                         hn::StoreU(out, dt, hv + i);
                         s = hn::MulAdd(Wide(dd, vv), Wide(dd, out), s);
                       })
      .first;
}

template <class T>
HWY_NOINLINE double Penalty(const T* w, T* g, std::size_t n, T l2, T l1) {
  const sums s = Accumulate<T>(
      n, [&](auto dd, auto dt, std::size_t i, auto& squares, auto& absolutes) HWY_ATTR {
        const auto vw = hn::LoadU(dt, w + i);
        const auto sign_l1 =
            hn::IfThenZeroElse(hn::Eq(vw, hn::Zero(dt)), hn::CopySign(hn::Set(dt, l1), vw));
        const auto vg = hn::MulAdd(vw, hn::Set(dt, l2), hn::LoadU(dt, g + i));
        hn::StoreU(hn::Add(vg, sign_l1), dt, g + i);
        const auto ww = Wide(dd, vw);
        squares = hn::MulAdd(ww, ww, squares);
        absolutes = hn::Add(absolutes, hn::Abs(ww));
      });
  return 0.5 * double(l2) * s.first + double(l1) * s.second;
}

// PyTorch's two-loop recursion (one buffer, q then r both in d), each step one fused pass:
//   q = −g;  for i = k−1 … 0: α_i = ρ_i·s_iᵀq, q −= α_i·y_i
//   r = h0·q; for i = 0 … k−1: β = ρ_i·y_iᵀr, r += (α_i − β)·s_i
template <class T>
HWY_NOINLINE void TwoLoop(const two_loop_args<T>& a) {
  const std::size_t k = a.count, n = a.n;
  if (k == 0) {
    Scale<T>(T(-a.h0), a.g, a.d, n);
    return;
  }
  double next = ScaleDot<T>(T(-1), a.g, a.d, a.s[k - 1], n);
  for (std::size_t i = k; i-- > 0;) {
    a.alpha[i] = next * a.rho[i];
    next = AxpyDot<T>(T(-a.alpha[i]), a.y[i], a.d, i > 0 ? a.s[i - 1] : nullptr, n);
  }
  next = ScaleDot<T>(T(a.h0), a.d, a.d, a.y[0], n);
  for (std::size_t i = 0; i < k; ++i) {
    const double beta = next * a.rho[i];
    next = AxpyDot<T>(T(a.alpha[i] - beta), a.s[i], a.d, i + 1 < k ? a.y[i + 1] : nullptr, n);
  }
}

}  // namespace kiln::kernels::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#endif
