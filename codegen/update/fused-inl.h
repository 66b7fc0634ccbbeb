// The generic fused update: one pass over a tensor. Per chunk of lanes: load p and g, apply the
// plan's gradient clipping (every tensor) and penalties (tensors that take decay), the
// optimizer's step (which reads and writes its own state), store p, and with Polyak averaging
// move the average towards it. With a row constraint (max_norm) the pass goes row by row: the
// squared norm of each new row is summed as it is stored, and the row is rescaled (and
// averaged) while still in cache. Tails run the same chunk code on lane-sized copies. When the
// plan stops on non-finite values, the pass also ORs the bits of g − g and p_new − p_new: zero
// while all is finite, a NaN from the first NaN or infinity on -- two subtractions and two ORs
// per chunk of a loop bound by memory. A bf16 plan stores the new weights rounded to bf16 too
// (the copy its products read), from the registers: 2 more bytes written per weight, no pass.
#if defined(KILN_CODEGEN_UPDATE_FUSED_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef KILN_CODEGEN_UPDATE_FUSED_INL_H_
#undef KILN_CODEGEN_UPDATE_FUSED_INL_H_
#else
#define KILN_CODEGEN_UPDATE_FUSED_INL_H_
#endif

#include <algorithm>
#include <cstring>
#include <utility>

#include "kiln/codegen/engine/bf16-inl.h"
#include "kiln/codegen/update/stage-inl.h"
#include "kiln/codegen/update/stages-inl.h"
#include "kiln/codegen/update/stages.hpp"

HWY_BEFORE_NAMESPACE();
namespace kiln::codegen::HWY_NAMESPACE {

// Everything a chunk needs besides memory, built once per call.
template <class Cfg, class D>
struct update_ctx {
  typename stage<Cfg::opt>::template consts<D> opt;
  step_vecs<D> step;
  update_ctx(D d, const update_args<Cfg>& a)
      : opt(d, a.k, values_of(a)), step{hn::Set(d, hn::TFromD<D>(a.clip))} {}
};

template <auto R, dsl::phase P, class D, class V>
HWY_INLINE V term(D d, const step_vecs<D>& v, V p, V g) {
  if constexpr (R.when == P)
    return stage<R>::grad(d, v, p, g);
  else
    return g;
}

// The plan's gradient terms of phase P, in the order written.
template <class Cfg, dsl::phase P, class D, class V, std::size_t... I>
HWY_INLINE V terms(D d, const step_vecs<D>& v, V p, V g, std::index_sequence<I...>) {
  ((g = term<dsl::at<I>(Cfg::regs), P>(d, v, p, g)), ...);
  return g;
}

// Polyak averaging after the step, on the new weights still in registers:
// ema += (1 − decay)·(p − ema).
template <class Cfg, class D, class V>
HWY_INLINE void average(D d, V p, hn::TFromD<D>* ema) {
  const V e = hn::LoadU(d, ema);
  hn::StoreU(hn::MulAdd(hn::Sub(p, e), hn::Set(d, hn::TFromD<D>(1 - Cfg::ema)), e), d, ema);
}

// The bits of every x − x (0 for a finite x, a NaN otherwise) of the gradients read and of the
// weights written, OR-ed together (Cfg::check).
template <class D>
struct finite_bits {
  hn::Vec<D> g, p;
};

// Updates lanes [i, i + Lanes(d)) and returns the new p (averaged into ema when Average).
template <class Cfg, bool Average, bool Half, class D>
HWY_INLINE hn::Vec<D> update_chunk(D d, const update_ctx<Cfg, D>& c, hn::TFromD<D>* p,
                                   const hn::TFromD<D>* g, hn::TFromD<D>* const* s,
                                   hn::TFromD<D>* ema, std::size_t i, hn::Vec<D>& fg,
                                   hn::Vec<D>& fp, std::uint16_t* half) {
  constexpr auto all = dsl::index_for<Cfg::regs.size>{};
  const auto vp = hn::LoadU(d, p + i);
  const auto raw = hn::LoadU(d, g + i);
  auto vg = terms<Cfg, dsl::phase::clip>(d, c.step, vp, raw, all);
  if constexpr (Cfg::decay) vg = terms<Cfg, dsl::phase::penalty>(d, c.step, vp, vg, all);
  const auto np = stage<Cfg::opt>::step(d, c.opt, s, i, vp, vg);
  hn::StoreU(np, d, p + i);
  if constexpr (Half) kiln::engine::HWY_NAMESPACE::StoreBF16(d, np, half + i);
  if constexpr (Average) average<Cfg>(d, np, ema + i);
  if constexpr (Cfg::check) {  // OR: a one-cycle dependency from chunk to chunk, not an add's four
    fg = hn::Or(fg, hn::Sub(raw, raw));
    fp = hn::Or(fp, hn::Sub(np, np));
  }
  return np;
}

// The memory one call updates, in locals: Highway's stores may alias anything, so pointers read
// from the arguments would be read again after every store.
template <class T, int S>
struct streams {
  T* p;
  const T* g;
  T* s[S];
  T* ema;
  std::uint16_t* half;
};

// Updates [begin, end); with Norm, returns the lanes of Σ p_new² over it. Half: store the bf16
// copy too. `m` and the check's bits are copies local to the call so that they stay in
// registers: max_norm's loop calls this once per row, and with its caller's by reference GCC
// read the pointers and wrote the bits in memory at every chunk (the stores may alias them),
// which cost that loop 1.6× its time in cache.
template <class Cfg, bool Norm, bool Average, bool Half, class D, int S>
HWY_INLINE hn::Vec<D> update_span(D d, const update_ctx<Cfg, D>& c, streams<hn::TFromD<D>, S> m,
                                  std::size_t begin, std::size_t end, finite_bits<D>& bits) {
  using T = hn::TFromD<D>;
  auto fg = bits.g, fp = bits.p;
  const std::size_t lanes = hn::Lanes(d);
  auto sum = hn::Zero(d);
  std::size_t i = begin;
  for (; i + lanes <= end; i += lanes) {
    const auto np = update_chunk<Cfg, Average, Half>(d, c, m.p, m.g, m.s, m.ema, i, fg, fp, m.half);
    if constexpr (Norm) sum = hn::MulAdd(np, np, sum);
  }
  if (i == end) {
    bits = {fg, fp};
    return sum;
  }

  // The tail through lane-sized copies: no target reads past the end (SSE4's MaskedLoad would).
  constexpr std::size_t M = HWY_MAX_BYTES / sizeof(T);
  const std::size_t rest = end - i, bytes = rest * sizeof(T);
  HWY_ALIGN T tp[M] = {}, tg[M] = {}, ts[S][M] = {}, te[M] = {};
  HWY_ALIGN std::uint16_t th[M] = {};
  T* sp[S];
  std::memcpy(tp, m.p + i, bytes);
  std::memcpy(tg, m.g + i, bytes);
  for (int k = 0; k < Cfg::states; ++k) std::memcpy(ts[k], m.s[k] + i, bytes);
  if constexpr (Average) std::memcpy(te, m.ema + i, bytes);
  for (int k = 0; k < S; ++k) sp[k] = ts[k];
  // The copies' lanes past the end hold zeros, and stay finite through every optimizer.
  const auto np = hn::IfThenElseZero(
      hn::FirstN(d, rest), update_chunk<Cfg, Average, Half>(d, c, tp, tg, sp, te, 0, fg, fp, th));
  if constexpr (Norm) sum = hn::MulAdd(np, np, sum);
  std::memcpy(m.p + i, tp, bytes);
  for (int k = 0; k < Cfg::states; ++k) std::memcpy(m.s[k] + i, ts[k], bytes);
  if constexpr (Average) std::memcpy(m.ema + i, te, bytes);
  if constexpr (Half) std::memcpy(m.half + i, th, rest * sizeof(std::uint16_t));
  bits = {fg, fp};
  return sum;
}

template <auto R>
double factor_of(double sumsq) {
  if constexpr (R.when == dsl::phase::constraint)
    return regular<R>::row_factor(sumsq);
  else
    return 1;
}

// The product of the plan's row constraints' factors for a row of squared norm `sumsq`.
template <class Cfg, std::size_t... I>
double row_factor(double sumsq, std::index_sequence<I...>) {
  return (factor_of<dsl::at<I>(Cfg::regs)>(sumsq) * ... * 1.0);
}

// A row after the step, still in cache: scaled by its constraints' factor, then averaged.
// A bf16 plan's copy of the row is written here, after the scaling.
template <class Cfg, class D, class T = hn::TFromD<D>>
HWY_INLINE void finish_row(D d, T* row, T* ema, std::size_t len, T f, std::uint16_t* half) {
  const auto vf = hn::Set(d, f);
  std::size_t j = 0;
  for (; j + hn::Lanes(d) <= len; j += hn::Lanes(d)) {
    const auto p = hn::Mul(hn::LoadU(d, row + j), vf);
    hn::StoreU(p, d, row + j);
    if constexpr (Cfg::half) kiln::engine::HWY_NAMESPACE::StoreBF16(d, p, half + j);
    if constexpr (Cfg::ema > 0) average<Cfg>(d, p, ema + j);
  }
  const hn::CappedTag<T, 1> d1;
  for (; j < len; ++j) {
    const auto p = hn::Mul(hn::LoadU(d1, row + j), hn::Set(d1, f));
    hn::StoreU(p, d1, row + j);
    if constexpr (Cfg::half) half[j] = kiln::engine::HWY_NAMESPACE::ToBF16(hn::GetLane(p));
    if constexpr (Cfg::ema > 0) average<Cfg>(d1, p, ema + j);
  }
}

template <class Cfg>
HWY_NOINLINE void fused_update(const update_args<Cfg>& a) {
  using T = typename Cfg::type;
  using D = hn::ScalableTag<T>;
  const D d;
  const update_ctx<Cfg, D> c(d, a);
  constexpr int S = std::max(Cfg::states, 1);
  constexpr bool averaged = Cfg::ema > 0;
  streams<T, S> m{a.p, a.g, {}, a.ema, a.half};
  for (int k = 0; k < S; ++k) m.s[k] = a.state[k];
  finite_bits<D> f{hn::Zero(d), hn::Zero(d)};
  [&] {
    if constexpr (Cfg::rows) {
      if (a.row != 0) {
        for (std::size_t r = 0; r < a.n; r += a.row) {
          const std::size_t len = std::min(a.row, a.n - r);
          const auto sum = update_span<Cfg, true, false, false>(d, c, m, r, r + len, f);
          const double k = row_factor<Cfg>(double(hn::GetLane(hn::SumOfLanes(d, sum))),
                                           dsl::index_for<Cfg::regs.size>{});
          if (k != 1 || averaged || Cfg::half)
            finish_row<Cfg>(d, a.p + r, a.ema + r, len, T(k), a.half + r);
        }
        return;
      }
    }
    update_span<Cfg, false, averaged, Cfg::half>(d, c, m, 0, a.n, f);
  }();
  if constexpr (Cfg::check) {
    if (a.check) {
      a.check[0] = float(hn::GetLane(hn::SumOfLanes(d, f.g)));
      a.check[1] = float(hn::GetLane(hn::SumOfLanes(d, f.p)));
    }
  }
}

}  // namespace kiln::codegen::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#endif
