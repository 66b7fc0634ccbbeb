// nadam's vector body, in PyTorch 1.13's operation order (dsl/optim/nadam.hpp).
#if defined(KILN_CODEGEN_UPDATE_NADAM_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef KILN_CODEGEN_UPDATE_NADAM_INL_H_
#undef KILN_CODEGEN_UPDATE_NADAM_INL_H_
#else
#define KILN_CODEGEN_UPDATE_NADAM_INL_H_
#endif

#include "kiln/codegen/update/nadam.hpp"
#include "kiln/codegen/update/stage-inl.h"

HWY_BEFORE_NAMESPACE();
namespace kiln::codegen::HWY_NAMESPACE {

template <dsl::nadam O>
struct stage<O> {
  template <class D>
  struct consts {
    using T = hn::TFromD<D>;
    hn::Vec<D> beta1, keep1, beta2, keep2, bc2, eps, grad_step, avg_step, wd;
    consts(D d, const typename optim<O>::scalars& k, const dsl::nadam& h)
        : beta1(hn::Set(d, T(h.beta1))),
          keep1(hn::Set(d, T(1 - h.beta1))),
          beta2(hn::Set(d, T(h.beta2))),
          keep2(hn::Set(d, T(1 - h.beta2))),
          bc2(hn::Set(d, T(k.bc2))),
          eps(hn::Set(d, T(h.eps))),
          grad_step(hn::Set(d, T(k.grad_step))),
          avg_step(hn::Set(d, T(k.avg_step))),
          wd(hn::Set(d, T(h.weight_decay))) {}
  };

  template <class D, class V>
  static HWY_INLINE V step(D d, const consts<D>& c, hn::TFromD<D>* const* s, std::size_t i, V p,
                           V g) {
    if constexpr (O.weight_decay != 0) g = hn::MulAdd(p, c.wd, g);  // grad.add(p, alpha=wd)
    // exp_avg.mul_(beta1).add_(g, alpha=1 − beta1); exp_avg_sq.mul_(beta2).addcmul_(g, g, 1 −
    // beta2)
    const V m = hn::MulAdd(g, c.keep1, hn::Mul(hn::LoadU(d, s[0] + i), c.beta1));
    const V v = hn::MulAdd(hn::Mul(c.keep2, g), g, hn::Mul(hn::LoadU(d, s[1] + i), c.beta2));
    hn::StoreU(m, d, s[0] + i);
    hn::StoreU(v, d, s[1] + i);
    // denom = exp_avg_sq.div(bias_correction2).sqrt().add_(eps)
    const V denom = hn::Add(hn::Sqrt(hn::Div(v, c.bc2)), c.eps);
    p = hn::Add(p, hn::Div(hn::Mul(c.grad_step, g), denom));    // p.addcdiv_(g, denom, value)
    return hn::Add(p, hn::Div(hn::Mul(c.avg_step, m), denom));  // p.addcdiv_(m, denom, value)
  }
};

}  // namespace kiln::codegen::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#endif
