// Gradient clipping's vector bodies: clamp to ±c (c folded in), or this step's norm scale.
#if defined(KILN_CODEGEN_UPDATE_CLIP_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef KILN_CODEGEN_UPDATE_CLIP_INL_H_
#undef KILN_CODEGEN_UPDATE_CLIP_INL_H_
#else
#define KILN_CODEGEN_UPDATE_CLIP_INL_H_
#endif

#include "kiln/codegen/update/clip.hpp"
#include "kiln/codegen/update/stage-inl.h"

HWY_BEFORE_NAMESPACE();
namespace kiln::codegen::HWY_NAMESPACE {

template <dsl::clip_value R>
struct stage<R> {
  template <class D, class V>
  static HWY_INLINE V grad(D d, const step_vecs<D>&, V, V g) {
    using T = hn::TFromD<D>;
    return hn::Min(hn::Max(g, hn::Set(d, T(-R.c))), hn::Set(d, T(R.c)));
  }
};

template <dsl::clip_norm R>
struct stage<R> {
  template <class D, class V>
  static HWY_INLINE V grad(D, const step_vecs<D>& v, V, V g) {
    return hn::Mul(g, v.clip);
  }
};

}  // namespace kiln::codegen::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#endif
