// l1's vector body: g += λ·sign(p), with sign(0) = 0 (torch.sign).
#if defined(KILN_CODEGEN_UPDATE_L1_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef KILN_CODEGEN_UPDATE_L1_INL_H_
#undef KILN_CODEGEN_UPDATE_L1_INL_H_
#else
#define KILN_CODEGEN_UPDATE_L1_INL_H_
#endif

#include "kiln/codegen/update/l1.hpp"
#include "kiln/codegen/update/stage-inl.h"

HWY_BEFORE_NAMESPACE();
namespace kiln::codegen::HWY_NAMESPACE {

template <dsl::l1 R>
struct stage<R> {
  template <class D, class V>
  static HWY_INLINE V grad(D d, const step_vecs<D>&, V p, V g) {
    const V signed_lambda = hn::CopySign(hn::Set(d, hn::TFromD<D>(R.lambda)), p);
    return hn::Add(g, hn::IfThenZeroElse(hn::Eq(p, hn::Zero(d)), signed_lambda));
  }
};

}  // namespace kiln::codegen::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#endif
