// adamax's vector body, in PyTorch 1.13's operation order (dsl/optim/adamax.hpp).
#if defined(KILN_CODEGEN_UPDATE_ADAMAX_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef KILN_CODEGEN_UPDATE_ADAMAX_INL_H_
#undef KILN_CODEGEN_UPDATE_ADAMAX_INL_H_
#else
#define KILN_CODEGEN_UPDATE_ADAMAX_INL_H_
#endif

#include "kiln/codegen/update/adamax.hpp"
#include "kiln/codegen/update/stage-inl.h"

HWY_BEFORE_NAMESPACE();
namespace kiln::codegen::HWY_NAMESPACE {

template <dsl::adamax O>
struct stage<O> {
  template <class D>
  struct consts {
    using T = hn::TFromD<D>;
    hn::Vec<D> beta1, keep1, beta2, eps, neg_clr, wd;
    consts(D d, const typename optim<O>::scalars& k, const dsl::adamax& h)
        : beta1(hn::Set(d, T(h.beta1))),
          keep1(hn::Set(d, T(1 - h.beta1))),
          beta2(hn::Set(d, T(h.beta2))),
          eps(hn::Set(d, T(h.eps))),
          neg_clr(hn::Set(d, T(-k.clr))),
          wd(hn::Set(d, T(h.weight_decay))) {}
  };

  template <class D, class V>
  static HWY_INLINE V step(D d, const consts<D>& c, hn::TFromD<D>* const* s, std::size_t i, V p,
                           V g) {
    if constexpr (O.weight_decay != 0) g = hn::MulAdd(p, c.wd, g);  // grad.add(p, alpha=wd)
    // exp_avg.mul_(beta1).add_(g, alpha=1 − beta1)
    const V m = hn::MulAdd(g, c.keep1, hn::Mul(hn::LoadU(d, s[0] + i), c.beta1));
    // exp_inf = amax(exp_inf·beta2, |g| + eps)
    const V u = hn::Max(hn::Mul(hn::LoadU(d, s[1] + i), c.beta2), hn::Add(hn::Abs(g), c.eps));
    hn::StoreU(m, d, s[0] + i);
    hn::StoreU(u, d, s[1] + i);
    return hn::Add(p, hn::Div(hn::Mul(c.neg_clr, m), u));  // p.addcdiv_(m, u, value=−clr)
  }
};

}  // namespace kiln::codegen::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#endif
