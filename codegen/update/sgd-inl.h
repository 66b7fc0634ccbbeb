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
    hn::Vec<D> lr, mu, keep;
    consts(D d, const typename optim<O>::scalars& k)
        : lr(hn::Set(d, k.lr)), mu(hn::Set(d, k.mu)), keep(hn::Set(d, k.keep)) {}
  };

  template <class D, class V>
  static HWY_INLINE V step(D d, const consts<D>& c, float* const* s, std::size_t i, V p, V g) {
    if constexpr (O.weight_decay != 0) g = hn::MulAdd(p, hn::Set(d, float(O.weight_decay)), g);
    if constexpr (O.momentum != 0) {
      V buf = hn::Mul(hn::LoadU(d, s[0] + i), c.mu);
      buf = O.dampening == 0 ? hn::Add(buf, g) : hn::MulAdd(g, c.keep, buf);
      hn::StoreU(buf, d, s[0] + i);
      g = O.nesterov ? hn::MulAdd(buf, hn::Set(d, float(O.momentum)), g) : buf;
    }
    return hn::NegMulAdd(g, c.lr, p);
  }
};

}  // namespace kiln::codegen::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#endif
