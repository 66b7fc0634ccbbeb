// adam's vector body, in PyTorch 1.13's operation order (dsl/optim/adam.hpp); adamw reuses it.
#if defined(KILN_CODEGEN_UPDATE_ADAM_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef KILN_CODEGEN_UPDATE_ADAM_INL_H_
#undef KILN_CODEGEN_UPDATE_ADAM_INL_H_
#else
#define KILN_CODEGEN_UPDATE_ADAM_INL_H_
#endif

#include "kiln/codegen/update/adam.hpp"
#include "kiln/codegen/update/stage-inl.h"

HWY_BEFORE_NAMESPACE();
namespace kiln::codegen::HWY_NAMESPACE {

// Adam and AdamW's values, broadcast once per call.
template <class D>
struct adam_consts {
  using T = hn::TFromD<D>;
  hn::Vec<D> beta1, keep1, beta2, keep2, bc2_sqrt, eps, neg_step, wd, decay;
  template <class O>
  adam_consts(D d, const adam_scalars& k, const O& h)
      : beta1(hn::Set(d, T(h.beta1))),
        keep1(hn::Set(d, T(1 - h.beta1))),
        beta2(hn::Set(d, T(h.beta2))),
        keep2(hn::Set(d, T(1 - h.beta2))),
        bc2_sqrt(hn::Set(d, T(k.bc2_sqrt))),
        eps(hn::Set(d, T(h.eps))),
        neg_step(hn::Set(d, T(-k.step_size))),
        wd(hn::Set(d, T(h.weight_decay))),
        decay(hn::Set(d, T(k.decay))) {}
};

// Adam's step once the gradient is final.
template <bool Amsgrad, class D, class V>
HWY_INLINE V adam_step(D d, const adam_consts<D>& c, hn::TFromD<D>* const* s, std::size_t i, V p,
                       V g) {
  // exp_avg.mul_(beta1).add_(g, alpha=1 − beta1)
  const V m = hn::MulAdd(g, c.keep1, hn::Mul(hn::LoadU(d, s[0] + i), c.beta1));
  // exp_avg_sq.mul_(beta2).addcmul_(g, g, value=1 − beta2)
  const V v = hn::MulAdd(hn::Mul(c.keep2, g), g, hn::Mul(hn::LoadU(d, s[1] + i), c.beta2));
  hn::StoreU(m, d, s[0] + i);
  hn::StoreU(v, d, s[1] + i);
  V vhat = v;
  if constexpr (Amsgrad) {
    vhat = hn::Max(hn::LoadU(d, s[2] + i), v);
    hn::StoreU(vhat, d, s[2] + i);
  }
  // denom = (v̂.sqrt() / √(1 − beta2ᵗ)).add_(eps); p.addcdiv_(m, denom, value=−step_size)
  const V denom = hn::Add(hn::Div(hn::Sqrt(vhat), c.bc2_sqrt), c.eps);
  return hn::Add(p, hn::Div(hn::Mul(c.neg_step, m), denom));
}

template <dsl::adam O>
struct stage<O> {
  template <class D>
  using consts = adam_consts<D>;

  template <class D, class V>
  static HWY_INLINE V step(D d, const consts<D>& c, hn::TFromD<D>* const* s, std::size_t i, V p,
                           V g) {
    if constexpr (O.weight_decay != 0) g = hn::MulAdd(p, c.wd, g);  // coupled: an L2 term
    return adam_step<O.amsgrad>(d, c, s, i, p, g);
  }
};

}  // namespace kiln::codegen::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#endif
