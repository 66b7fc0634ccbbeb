// sgd's vector body. Operation order follows PyTorch 1.13 (foreach=False) so that rounding
// matches as closely as a fused loop allows: see the formulas in dsl/optim/sgd.hpp.
#if defined(KILN_CODEGEN_UPDATE_SGD_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef KILN_CODEGEN_UPDATE_SGD_INL_H_
#undef KILN_CODEGEN_UPDATE_SGD_INL_H_
#else
#define KILN_CODEGEN_UPDATE_SGD_INL_H_
#endif

#include "kiln/codegen/update/sgd.hpp"
#include "kiln/codegen/update/stage-inl.h"

HWY_BEFORE_NAMESPACE();
namespace kiln::codegen::HWY_NAMESPACE {

template <dsl::sgd O>
struct stage<O> {
  template <class D>
  struct consts {
    using T = hn::TFromD<D>;
    hn::Vec<D> lr, mu, keep, wd, nesterov_mu;
    consts(D d, const typename optim<O>::scalars& k, const dsl::sgd& h)
        : lr(hn::Set(d, T(k.lr))),
          mu(hn::Set(d, T(k.mu))),
          keep(hn::Set(d, T(k.keep))),
          wd(hn::Set(d, T(h.weight_decay))),
          nesterov_mu(hn::Set(d, T(h.momentum))) {}
  };

  template <class D, class V>
  static HWY_INLINE V step(D d, const consts<D>& c, hn::TFromD<D>* const* s, std::size_t i, V p,
                           V g) {
    if constexpr (O.weight_decay != 0) g = hn::MulAdd(p, c.wd, g);  // d_p.add(p, alpha=wd)
    if constexpr (O.momentum != 0) {
      // buf.mul_(momentum).add_(d_p, alpha=1 − dampening)
      const V buf = hn::MulAdd(g, c.keep, hn::Mul(hn::LoadU(d, s[0] + i), c.mu));
      hn::StoreU(buf, d, s[0] + i);
      g = O.nesterov ? hn::MulAdd(buf, c.nesterov_mu, g) : buf;
    }
    return hn::NegMulAdd(g, c.lr, p);  // p.add_(d_p, alpha=−lr)
  }
};

}  // namespace kiln::codegen::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#endif
