// adagrad's vector body, in PyTorch 1.13's operation order (dsl/optim/adagrad.hpp).
#if defined(KILN_CODEGEN_UPDATE_ADAGRAD_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef KILN_CODEGEN_UPDATE_ADAGRAD_INL_H_
#undef KILN_CODEGEN_UPDATE_ADAGRAD_INL_H_
#else
#define KILN_CODEGEN_UPDATE_ADAGRAD_INL_H_
#endif

#include "kiln/codegen/update/adagrad.hpp"
#include "kiln/codegen/update/stage-inl.h"

HWY_BEFORE_NAMESPACE();
namespace kiln::codegen::HWY_NAMESPACE {

template <dsl::adagrad O>
struct stage<O> {
  template <class D>
  struct consts {
    using T = hn::TFromD<D>;
    hn::Vec<D> neg_clr, wd, eps;
    consts(D d, const typename optim<O>::scalars& k, const dsl::adagrad& h)
        : neg_clr(hn::Set(d, T(-k.clr))),
          wd(hn::Set(d, T(h.weight_decay))),
          eps(hn::Set(d, T(h.eps))) {}
  };

  template <class D, class V>
  static HWY_INLINE V step(D d, const consts<D>& c, hn::TFromD<D>* const* s, std::size_t i, V p,
                           V g) {
    if constexpr (O.weight_decay != 0) g = hn::MulAdd(p, c.wd, g);
    const V sum = hn::MulAdd(g, g, hn::LoadU(d, s[0] + i));  // sum.addcmul_(g, g, value=1)
    hn::StoreU(sum, d, s[0] + i);
    const V std = hn::Add(hn::Sqrt(sum), c.eps);
    return hn::Add(p, hn::Div(hn::Mul(c.neg_clr, g), std));  // p.addcdiv_(g, std, value=−clr)
  }
};

}  // namespace kiln::codegen::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#endif
