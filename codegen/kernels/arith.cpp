// arith.hpp: the kernels of arith-inl.h behind run-time dispatch.
#include "kiln/codegen/kernels/arith.hpp"

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kiln/codegen/kernels/arith-inl.h"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

#include "kiln/codegen/kernels/arith-inl.h"

#if HWY_ONCE
namespace kiln::kernels {

HWY_EXPORT(Add);
HWY_EXPORT(AddScaled);
HWY_EXPORT(Mul);
HWY_EXPORT(Scale);

void add(const float* a, const float* b, float* out, std::size_t n) {
  HWY_DYNAMIC_DISPATCH(Add)(a, b, out, n);
}
void add_scaled(const float* a, float k, const float* b, float* out, std::size_t n) {
  HWY_DYNAMIC_DISPATCH(AddScaled)(a, k, b, out, n);
}
void mul(const float* a, const float* b, float* out, std::size_t n) {
  HWY_DYNAMIC_DISPATCH(Mul)(a, b, out, n);
}
void scale(const float* a, float k, float* out, std::size_t n) {
  HWY_DYNAMIC_DISPATCH(Scale)(a, k, out, n);
}

}  // namespace kiln::kernels
#endif  // HWY_ONCE
