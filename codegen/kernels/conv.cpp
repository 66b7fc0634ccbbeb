// conv.hpp: the per-target arithmetic of conv-inl.h behind run-time dispatch.
#include "kiln/codegen/kernels/conv.hpp"

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kiln/codegen/kernels/conv-inl.h"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

#include "kiln/codegen/kernels/conv-inl.h"

#if HWY_ONCE
namespace kiln::kernels {

HWY_EXPORT(AddChannelBias);
HWY_EXPORT(AddChannelBiasRelu);
HWY_EXPORT(ReluMaskSums);
HWY_EXPORT(ChannelSums);

void add_channel_bias(float* y, const float* b, std::size_t n, std::size_t channels,
                      std::size_t plane) {
  HWY_DYNAMIC_DISPATCH(AddChannelBias)(y, b, n, channels, plane);
}
void add_channel_bias_relu(float* y, const float* b, std::size_t channels, std::size_t plane) {
  HWY_DYNAMIC_DISPATCH(AddChannelBiasRelu)(y, b, channels, plane);
}
void relu_mask_sums(const float* y, const float* dy, std::size_t channels, std::size_t plane,
                    float* out, float* sums) {
  HWY_DYNAMIC_DISPATCH(ReluMaskSums)(y, dy, channels, plane, out, sums);
}
void channel_sums(const float* a, std::size_t n, std::size_t channels, std::size_t plane,
                  float* out) {
  HWY_DYNAMIC_DISPATCH(ChannelSums)(a, n, channels, plane, out);
}

}  // namespace kiln::kernels
#endif  // HWY_ONCE
