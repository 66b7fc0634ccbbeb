// f32 → bf16 with rounding to nearest, ties to even (what oneDNN's reorders do; Highway 1.0.3's
// DemoteTo to bfloat16 truncates), as a vector body that the fused update loop also uses to
// write the bf16 copy of the weights in the same pass (codegen/update/fused-inl.h).
#if defined(KILN_CODEGEN_ENGINE_BF16_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef KILN_CODEGEN_ENGINE_BF16_INL_H_
#undef KILN_CODEGEN_ENGINE_BF16_INL_H_
#else
#define KILN_CODEGEN_ENGINE_BF16_INL_H_
#endif

#include <hwy/highway.h>

#include <cstddef>
#include <cstdint>
#include <cstring>

HWY_BEFORE_NAMESPACE();
namespace kiln::engine::HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// The upper halves of v's lanes after rounding: bits + 0x7FFF + (bit 16), then >> 16. NaN
// payloads may change (a NaN stays a NaN or becomes an infinity's neighbour: the update's
// finiteness check stops a run before that matters).
template <class D>
HWY_INLINE void StoreBF16(D /*d*/, hn::Vec<D> v, std::uint16_t* HWY_RESTRICT out) {
  const hn::RebindToUnsigned<D> du;
  const hn::RebindToSigned<D> di;
  const hn::Rebind<std::uint16_t, D> d16;
  const auto bits = hn::BitCast(du, v);
  const auto odd = hn::And(hn::ShiftRight<16>(bits), hn::Set(du, 1u));
  const auto hi = hn::ShiftRight<16>(hn::Add(bits, hn::Add(odd, hn::Set(du, 0x7FFFu))));
  hn::StoreU(hn::DemoteTo(d16, hn::BitCast(di, hi)), d16, out);
}

inline std::uint16_t ToBF16(float f) {
  std::uint32_t bits;
  std::memcpy(&bits, &f, 4);
  return std::uint16_t((bits + 0x7FFFu + ((bits >> 16) & 1u)) >> 16);
}

HWY_NOINLINE inline void ConvertToBF16(const float* HWY_RESTRICT x, std::uint16_t* HWY_RESTRICT y,
                                       std::size_t n) {
  const hn::ScalableTag<float> d;
  const std::size_t lanes = hn::Lanes(d);
  std::size_t i = 0;
  for (; i + lanes <= n; i += lanes) StoreBF16(d, hn::LoadU(d, x + i), y + i);
  for (; i < n; ++i) y[i] = ToBF16(x[i]);
}

HWY_NOINLINE inline void ConvertFromBF16(const std::uint16_t* HWY_RESTRICT x, float* HWY_RESTRICT y,
                                         std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint32_t bits = std::uint32_t(x[i]) << 16;
    std::memcpy(y + i, &bits, 4);
  }
}

}  // namespace kiln::engine::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#endif
