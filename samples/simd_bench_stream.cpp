// simd_bench: the no-math loop with a plan's streams, every compiled target: it reads p, g and
// each state vector and writes p and each state vector (p += g, s += g: one add per output, the
// least a loop that writes computed values does). Its GB/s at a size out of cache is the memory
// limit an update loop with the same streams can reach.
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "simd_bench_stream.cpp"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

#include <type_traits>

#include "simd_bench.hpp"

HWY_BEFORE_NAMESPACE();
namespace simd_bench::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

template <class States>
HWY_NOINLINE void Stream(const tensor& t) {
  constexpr int S = States::value;
  const hn::ScalableTag<float> d;
  // Pointers in locals: Highway's stores may alias the tensor struct.
  float* const p = t.p;
  const float* const g = t.g;
  float* s[S > 0 ? S : 1];
  for (int k = 0; k < S; ++k) s[k] = t.s[k];
  const std::size_t n = t.n, lanes = hn::Lanes(d);
  std::size_t i = 0;
  for (; i + lanes <= n; i += lanes) {
    const auto vg = hn::LoadU(d, g + i);
    hn::StoreU(hn::Add(hn::LoadU(d, p + i), vg), d, p + i);
    for (int k = 0; k < S; ++k) hn::StoreU(hn::Add(hn::LoadU(d, s[k] + i), vg), d, s[k] + i);
  }
  for (; i < n; ++i) {
    p[i] += g[i];
    for (int k = 0; k < S; ++k) s[k][i] += g[i];
  }
}

}  // namespace simd_bench::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
#include <kiln/codegen/dispatch.hpp>

namespace simd_bench {

KILN_EXPORT_T(stream_table, Stream);

void stream(int states, std::int64_t target, const tensor& t) {
  using kiln::codegen::call_target;
  switch (states) {
    case 0:
      return call_target<stream_table<std::integral_constant<int, 0>>>(target, t);
    case 1:
      return call_target<stream_table<std::integral_constant<int, 1>>>(target, t);
    case 2:
      return call_target<stream_table<std::integral_constant<int, 2>>>(target, t);
    default:
      return call_target<stream_table<std::integral_constant<int, 3>>>(target, t);
  }
}

}  // namespace simd_bench
#endif
