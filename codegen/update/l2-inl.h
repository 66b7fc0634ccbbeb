// l2's vector body: g += λ·p (λ folded in at compile time).
#if defined(KILN_CODEGEN_UPDATE_L2_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef KILN_CODEGEN_UPDATE_L2_INL_H_
#undef KILN_CODEGEN_UPDATE_L2_INL_H_
#else
#define KILN_CODEGEN_UPDATE_L2_INL_H_
#endif

#include "kiln/codegen/update/l2.hpp"
#include "kiln/codegen/update/stage-inl.h"

HWY_BEFORE_NAMESPACE();
namespace kiln::codegen::HWY_NAMESPACE {

template <dsl::l2 R>
struct stage<R> {
  template <class D, class V>
  static HWY_INLINE V grad(D d, const step_vecs<D>&, V p, V g) {
    return hn::MulAdd(p, hn::Set(d, hn::TFromD<D>(R.lambda)), g);
  }
};

}  // namespace kiln::codegen::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#endif
