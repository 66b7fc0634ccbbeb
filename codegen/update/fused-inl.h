// The generic fused update: one pass over a tensor. Per chunk of lanes: load p and g, apply the
// plan's regularizers (if the tensor takes them), the optimizer's step (which reads and writes
// its own state), store p. The tail runs the same chunk code on lane-sized copies.
#if defined(KILN_CODEGEN_UPDATE_FUSED_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef KILN_CODEGEN_UPDATE_FUSED_INL_H_
#undef KILN_CODEGEN_UPDATE_FUSED_INL_H_
#else
#define KILN_CODEGEN_UPDATE_FUSED_INL_H_
#endif

#include <algorithm>
#include <cstring>
#include <utility>

#include "kiln/codegen/update/l1-inl.h"
#include "kiln/codegen/update/l2-inl.h"
#include "kiln/codegen/update/sgd-inl.h"
#include "kiln/codegen/update/stage-inl.h"
#include "kiln/codegen/update/update.hpp"

HWY_BEFORE_NAMESPACE();
namespace kiln::codegen::HWY_NAMESPACE {

template <class Cfg, class D, class V, std::size_t... I>
HWY_INLINE V regularize(D d, V p, V g, std::index_sequence<I...>) {
  ((g = stage<dsl::at<I>(Cfg::regs)>::grad(d, p, g)), ...);
  return g;
}

// Polyak averaging after the step, on the new weights still in registers:
// ema += (1 - decay)·(p - ema).
template <class Cfg, class D, class V>
HWY_INLINE void average(D d, V p, float* ema) {
  const V e = hn::LoadU(d, ema);
  hn::StoreU(hn::MulAdd(hn::Sub(p, e), hn::Set(d, float(1 - Cfg::ema)), e), d, ema);
}

template <class Cfg, class D, class C>
HWY_INLINE void update_chunk(D d, const C& c, float* p, const float* g, float* const* s, float* ema,
                             std::size_t i) {
  const auto vp = hn::LoadU(d, p + i);
  auto vg = hn::LoadU(d, g + i);
  if constexpr (Cfg::decay) vg = regularize<Cfg>(d, vp, vg, dsl::index_for<Cfg::regs.size>{});
  const auto next = stage<Cfg::plan.optimizer>::step(d, c, s, i, vp, vg);
  hn::StoreU(next, d, p + i);
  if constexpr (Cfg::ema > 0) average<Cfg>(d, next, ema + i);
}

template <class Cfg>
HWY_NOINLINE void fused_update(const update_args<Cfg>& a) {
  using D = hn::ScalableTag<float>;
  const D d;
  const typename stage<Cfg::plan.optimizer>::template consts<D> c(d, a.k);
  const std::size_t lanes = hn::Lanes(d);

  std::size_t i = 0;
  for (; i + lanes <= a.n; i += lanes) update_chunk<Cfg>(d, c, a.p, a.g, a.state, a.ema, i);
  if (i == a.n) return;

  // Tail through lane-sized copies: no target reads past the end (SSE4's MaskedLoad would).
  constexpr int S = std::max(Cfg::states, 1);
  constexpr std::size_t M = HWY_MAX_BYTES / sizeof(float);
  const std::size_t rest = a.n - i, bytes = rest * sizeof(float);
  HWY_ALIGN float tp[M] = {}, tg[M] = {}, ts[S][M] = {}, te[M] = {};
  float* sp[S];
  std::memcpy(tp, a.p + i, bytes);
  std::memcpy(tg, a.g + i, bytes);
  for (int k = 0; k < Cfg::states; ++k) std::memcpy(ts[k], a.state[k] + i, bytes);
  if constexpr (Cfg::ema > 0) std::memcpy(te, a.ema + i, bytes);
  for (int k = 0; k < S; ++k) sp[k] = ts[k];
  update_chunk<Cfg>(d, c, tp, tg, sp, te, 0);
  std::memcpy(a.p + i, tp, bytes);
  for (int k = 0; k < Cfg::states; ++k) std::memcpy(a.state[k] + i, ts[k], bytes);
  if constexpr (Cfg::ema > 0) std::memcpy(a.ema + i, te, bytes);
}

}  // namespace kiln::codegen::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#endif
