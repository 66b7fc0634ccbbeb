// rmsprop's vector body, in PyTorch 1.13's operation order (dsl/optim/rmsprop.hpp).
#if defined(KILN_CODEGEN_UPDATE_RMSPROP_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef KILN_CODEGEN_UPDATE_RMSPROP_INL_H_
#undef KILN_CODEGEN_UPDATE_RMSPROP_INL_H_
#else
#define KILN_CODEGEN_UPDATE_RMSPROP_INL_H_
#endif

#include "kiln/codegen/update/rmsprop.hpp"
#include "kiln/codegen/update/stage-inl.h"

HWY_BEFORE_NAMESPACE();
namespace kiln::codegen::HWY_NAMESPACE {

template <dsl::rmsprop O>
struct stage<O> {
  template <class D>
  struct consts {
    using T = hn::TFromD<D>;
    hn::Vec<D> lr, neg_lr, alpha, keep, eps, wd, mu;
    consts(D d, const typename optim<O>::scalars& k, const dsl::rmsprop& h)
        : lr(hn::Set(d, T(k.lr))),
          neg_lr(hn::Set(d, T(-k.lr))),
          alpha(hn::Set(d, T(h.alpha))),
          keep(hn::Set(d, T(1 - h.alpha))),
          eps(hn::Set(d, T(h.eps))),
          wd(hn::Set(d, T(h.weight_decay))),
          mu(hn::Set(d, T(h.momentum))) {}
  };

  template <class D, class V>
  static HWY_INLINE V step(D d, const consts<D>& c, hn::TFromD<D>* const* s, std::size_t i, V p,
                           V g) {
    if constexpr (O.weight_decay != 0) g = hn::MulAdd(p, c.wd, g);
    // square_avg.mul_(alpha).addcmul_(g, g, value=1 − alpha)
    const V v = hn::MulAdd(hn::Mul(c.keep, g), g, hn::Mul(hn::LoadU(d, s[0] + i), c.alpha));
    hn::StoreU(v, d, s[0] + i);
    V avg;
    if constexpr (O.centered) {
      // grad_avg.mul_(alpha).add_(g, alpha=1 − alpha); avg = v.addcmul(ḡ, ḡ, value=−1).sqrt()
      auto* const mean_at = s[O.centered_state()] + i;
      const V mean = hn::MulAdd(g, c.keep, hn::Mul(hn::LoadU(d, mean_at), c.alpha));
      hn::StoreU(mean, d, mean_at);
      avg = hn::Sqrt(hn::NegMulAdd(mean, mean, v));
    } else {
      avg = hn::Sqrt(v);
    }
    avg = hn::Add(avg, c.eps);
    if constexpr (O.momentum != 0) {
      // buf.mul_(momentum).addcdiv_(g, avg); p.add_(buf, alpha=−lr)
      auto* const buf_at = s[O.momentum_state()] + i;
      const V buf = hn::Add(hn::Mul(hn::LoadU(d, buf_at), c.mu), hn::Div(g, avg));
      hn::StoreU(buf, d, buf_at);
      return hn::NegMulAdd(buf, c.lr, p);
    } else {
      return hn::Add(p, hn::Div(hn::Mul(c.neg_lr, g), avg));  // p.addcdiv_(g, avg, value=−lr)
    }
  }
};

}  // namespace kiln::codegen::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#endif
