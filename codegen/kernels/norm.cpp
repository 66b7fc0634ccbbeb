// norm.hpp: the kernels of norm-inl.h behind run-time dispatch.
#include "kiln/codegen/kernels/norm.hpp"

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kiln/codegen/kernels/norm-inl.h"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

#include "kiln/codegen/kernels/norm-inl.h"

#if HWY_ONCE
namespace kiln::kernels {

HWY_EXPORT(ChannelMoments);
HWY_EXPORT(ChannelAffine);
HWY_EXPORT(ChannelDot);
HWY_EXPORT(ChannelAffine2);

void channel_moments(const float* x, std::size_t n, std::size_t channels, std::size_t plane,
                     float* mean, float* var) {
  HWY_DYNAMIC_DISPATCH(ChannelMoments)(x, n, channels, plane, mean, var);
}
void channel_affine(const float* x, const float* a, const float* b, std::size_t n,
                    std::size_t channels, std::size_t plane, float* y) {
  HWY_DYNAMIC_DISPATCH(ChannelAffine)(x, a, b, n, channels, plane, y);
}
void channel_dot(const float* x, const float* dy, const float* center, std::size_t n,
                 std::size_t channels, std::size_t plane, float* sum_dy, float* sum_dy_x) {
  HWY_DYNAMIC_DISPATCH(ChannelDot)(x, dy, center, n, channels, plane, sum_dy, sum_dy_x);
}
void channel_affine2(const float* dy, const float* x, const float* a, const float* b,
                     const float* k, std::size_t n, std::size_t channels, std::size_t plane,
                     float* dx) {
  HWY_DYNAMIC_DISPATCH(ChannelAffine2)(dy, x, a, b, k, n, channels, plane, dx);
}

}  // namespace kiln::kernels
#endif  // HWY_ONCE
