// Per-target bodies of kernels.hpp. Every loop runs full vectors, then the remainder one lane at
// a time through the same lambda (a 1-lane tag), so no target reads or writes past the end.
#if defined(KILN_CODEGEN_KERNELS_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef KILN_CODEGEN_KERNELS_INL_H_
#undef KILN_CODEGEN_KERNELS_INL_H_
#else
#define KILN_CODEGEN_KERNELS_INL_H_
#endif

#include <algorithm>

#include <hwy/contrib/math/math-inl.h>
#include <hwy/highway.h>

HWY_BEFORE_NAMESPACE();
namespace kiln::kernels::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// out[i] = f(d, a[i]) for i < n.
template <class F>
HWY_INLINE void map1(const float* a, float* out, std::size_t n, F f) {
  const hn::ScalableTag<float> d;
  const hn::CappedTag<float, 1> d1;
  const std::size_t lanes = hn::Lanes(d);
  std::size_t i = 0;
  for (; i + lanes <= n; i += lanes) hn::StoreU(f(d, hn::LoadU(d, a + i)), d, out + i);
  for (; i < n; ++i) hn::StoreU(f(d1, hn::LoadU(d1, a + i)), d1, out + i);
}

// out[i] = f(d, a[i], b[i]) for i < n.
template <class F>
HWY_INLINE void map2(const float* a, const float* b, float* out, std::size_t n, F f) {
  const hn::ScalableTag<float> d;
  const hn::CappedTag<float, 1> d1;
  const std::size_t lanes = hn::Lanes(d);
  std::size_t i = 0;
  for (; i + lanes <= n; i += lanes)
    hn::StoreU(f(d, hn::LoadU(d, a + i), hn::LoadU(d, b + i)), d, out + i);
  for (; i < n; ++i) hn::StoreU(f(d1, hn::LoadU(d1, a + i), hn::LoadU(d1, b + i)), d1, out + i);
}

void AddBias(float* y, std::size_t ld, const float* b, std::size_t rows, std::size_t cols) {
  for (std::size_t r = 0; r < rows; ++r)
    map2(y + r * ld, b, y + r * ld, cols, [](auto d, auto v, auto bias) HWY_ATTR {
      (void)d;
      return hn::Add(v, bias);
    });
}

void ColumnSums(const float* a, std::size_t ld, std::size_t rows, std::size_t cols, float* out) {
  const hn::ScalableTag<float> d;
  const hn::CappedTag<float, 1> d1;
  const std::size_t lanes = hn::Lanes(d);
  std::size_t c = 0;
  for (; c + lanes <= cols; c += lanes) {
    auto acc = hn::Zero(d);
    for (std::size_t r = 0; r < rows; ++r) acc = hn::Add(acc, hn::LoadU(d, a + r * ld + c));
    hn::StoreU(acc, d, out + c);
  }
  for (; c < cols; ++c) {
    auto acc = hn::Zero(d1);
    for (std::size_t r = 0; r < rows; ++r) acc = hn::Add(acc, hn::LoadU(d1, a + r * ld + c));
    hn::StoreU(acc, d1, out + c);
  }
}

void Relu(const float* x, float* y, std::size_t n) {
  map1(x, y, n, [](auto d, auto v) HWY_ATTR { return hn::Max(v, hn::Zero(d)); });
}
void ReluBackward(const float* y, const float* dy, float* dx, std::size_t n) {
  map2(y, dy, dx, n, [](auto d, auto out, auto g) HWY_ATTR {
    return hn::IfThenElseZero(hn::Gt(out, hn::Zero(d)), g);
  });
}
void LeakyRelu(const float* x, float* y, std::size_t n, float slope) {
  map1(x, y, n, [slope](auto d, auto v) HWY_ATTR {
    return hn::IfThenElse(hn::Gt(v, hn::Zero(d)), v, hn::Mul(v, hn::Set(d, slope)));
  });
}
void LeakyReluBackward(const float* x, const float* dy, float* dx, std::size_t n, float slope) {
  map2(x, dy, dx, n, [slope](auto d, auto in, auto g) HWY_ATTR {
    return hn::IfThenElse(hn::Gt(in, hn::Zero(d)), g, hn::Mul(g, hn::Set(d, slope)));
  });
}
void Tanh(const float* x, float* y, std::size_t n) {
  map1(x, y, n, [](auto d, auto v) HWY_ATTR { return hn::Tanh(d, v); });
}
void TanhBackward(const float* y, const float* dy, float* dx, std::size_t n) {
  map2(y, dy, dx, n, [](auto d, auto out, auto g) HWY_ATTR {
    return hn::Mul(g, hn::NegMulAdd(out, out, hn::Set(d, 1.0f)));
  });
}
// 1 / (1 + e^−x), written so that large |x| neither overflows nor loses the small side.
void Sigmoid(const float* x, float* y, std::size_t n) {
  map1(x, y, n, [](auto d, auto v) HWY_ATTR {
    const auto one = hn::Set(d, 1.0f);
    const auto e = hn::Exp(d, hn::Neg(hn::Abs(v)));  // in (0, 1]
    const auto small = hn::Div(e, hn::Add(one, e));  // sigmoid(−|x|)
    return hn::IfThenElse(hn::Lt(v, hn::Zero(d)), small, hn::Sub(one, small));
  });
}
void SigmoidBackward(const float* y, const float* dy, float* dx, std::size_t n) {
  map2(y, dy, dx, n, [](auto d, auto out, auto g) HWY_ATTR {
    return hn::Mul(g, hn::Mul(out, hn::Sub(hn::Set(d, 1.0f), out)));
  });
}
void SquaredErrorBackward(const float* y, const float* t, std::size_t n, float scale, float* dy) {
  const float k = 2.0f / scale;
  map2(y, t, dy, n,
       [k](auto d, auto a, auto b) HWY_ATTR { return hn::Mul(hn::Sub(a, b), hn::Set(d, k)); });
}

// Σ x² in blocks: four float accumulators per block (independent chains), blocks summed in
// double so that a norm over millions of gradients keeps its precision.
double SumSquares(const float* x, std::size_t n) {
  const hn::ScalableTag<float> d;
  const hn::CappedTag<float, 1> d1;
  const std::size_t lanes = hn::Lanes(d), block = 4096;
  double total = 0;
  std::size_t i = 0;
  while (i + 4 * lanes <= n) {
    auto a0 = hn::Zero(d), a1 = hn::Zero(d), a2 = hn::Zero(d), a3 = hn::Zero(d);
    const std::size_t end = std::min(n, i + block);
    for (; i + 4 * lanes <= end; i += 4 * lanes) {
      const auto v0 = hn::LoadU(d, x + i), v1 = hn::LoadU(d, x + i + lanes);
      const auto v2 = hn::LoadU(d, x + i + 2 * lanes), v3 = hn::LoadU(d, x + i + 3 * lanes);
      a0 = hn::MulAdd(v0, v0, a0);
      a1 = hn::MulAdd(v1, v1, a1);
      a2 = hn::MulAdd(v2, v2, a2);
      a3 = hn::MulAdd(v3, v3, a3);
    }
    total += hn::GetLane(hn::SumOfLanes(d, hn::Add(hn::Add(a0, a1), hn::Add(a2, a3))));
  }
  for (; i < n; ++i) total += double(x[i]) * double(x[i]);
  return total;
}

}  // namespace kiln::kernels::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#endif
