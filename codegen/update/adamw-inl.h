// adamw's vector body: p ·= 1 − lr·weight_decay, then Adam's step (adam-inl.h).
#if defined(KILN_CODEGEN_UPDATE_ADAMW_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef KILN_CODEGEN_UPDATE_ADAMW_INL_H_
#undef KILN_CODEGEN_UPDATE_ADAMW_INL_H_
#else
#define KILN_CODEGEN_UPDATE_ADAMW_INL_H_
#endif

#include "kiln/codegen/update/adam-inl.h"
#include "kiln/codegen/update/adamw.hpp"

HWY_BEFORE_NAMESPACE();
namespace kiln::codegen::HWY_NAMESPACE {

template <dsl::adamw O>
struct stage<O> {
  template <class D>
  using consts = adam_consts<D>;

  template <class D, class V>
  static HWY_INLINE V step(D d, const consts<D>& c, hn::TFromD<D>* const* s, std::size_t i, V p,
                           V g) {
    if constexpr (O.weight_decay != 0) p = hn::Mul(p, c.decay);  // decoupled, before the step
    return adam_step<O.amsgrad>(d, c, s, i, p, g);
  }
};

}  // namespace kiln::codegen::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#endif
