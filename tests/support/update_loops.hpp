// The fused update of a plan on every compiled Highway target against the double-precision
// scalar loop of the same formulas (codegen/update/reference.hpp), step by step: 100 steps with a
// changing learning rate and clipping scale, sizes around every target's lane count, unaligned
// pointers. Parameters, the EMA and every state vector are compared.
#pragma once

#include <boost/test/unit_test.hpp>

#include <kiln/codegen/generate.hpp>  // the loops for every target: this TU's only foreach_target
#include <kiln/codegen/update/reference.hpp>
#include <kiln/dsl/dsl.hpp>
#include <kiln/core/rng.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "bits.hpp"
#include "rounding.hpp"
#include "targets.hpp"

namespace kiln::test {

namespace cg = kiln::codegen;

// Error allowed in one step from the same float state, relative to max(1, |reference|) (each
// step restarts the double reference from the float state: one step's roundings, no drift).
// The new weight rounds once (u·|p|) after its update lr·d. d's evaluation takes at most 20
// roundings, each of u times an intermediate no larger than max(1, |d|), twice that on a target
// without FMA (a multiply-add rounded twice); lr·|d| <= 1 for every plan of these suites -- the
// largest, rmsprop{.lr = 0.01, .momentum = 0.9}, has |g/√v| <= 1/√(1 - α) = 10 and a buffer up
// to 10/(1 - μ) = 100. So 2·(3 + 20·1)u = 46u; max_norm adds its row norm's ½γ(79) ≈ 40u: 86u,
// and 96u is allowed. A state vector's new value is a multiply-add of terms of its size or
// smaller: 3u. Adam's |m̂|/√v̂ <= 7.3 by Cauchy-Schwarz over the two averages' weights (β1 = 0.9,
// β2 = 0.999). Centered RMSprop divides by √(v - ḡ²), conditioned by (v + ḡ²)/(v - ḡ²): 1.2 at
// the first step with α = 0.9, near 1 after for gradients uniform on (-1, 1) (ḡ² << v). Measured
// on a Zen 5: 35.8u at most (rmsprop with momentum), SGD 4.6u, Adam 1.7u. A wrong formula (a
// missing bias correction, β swapped, decay applied twice) is off by 1e-4 or more.
inline constexpr double loop_tolerance = 96 * u;

// Row length for row constraints: several rows (the last one shorter where n is not a multiple).
inline std::size_t row_for(std::size_t n) { return n >= 1000 ? 79 : n > 5 ? 5 : n; }

// One step of a plan's loop as the checks below see it: plain pointers and sizes, so that the
// checking code is compiled once per suite rather than once per plan (it was a third of an optim
// suite's code).
template <class T>
struct loop_state {
  T* p = nullptr;
  const T* g = nullptr;
  T* ema = nullptr;
  T* state[4]{};
  std::size_t n = 0, row = 0;
  double clip = 1;
};
struct loop_view {
  int states = 0;
  bool ema = false;   // the loop keeps an EMA of the weights
  bool rows = false;  // a row constraint (max_norm): its row sums add lanes in another order
  bool decay = false;
  double lr = 0;
  double state_init[4]{};
  // Step t with learning rate lr: the float loop on `target`, and the double reference.
  void (*step)(std::int64_t target, const loop_state<float>&, long t, double lr) = nullptr;
  void (*reference)(const loop_state<double>&, long t, double lr) = nullptr;
};

template <class Cfg, class T>
cg::update_args<Cfg> args_of(const loop_state<T>& s) {
  cg::update_args<Cfg> a;
  a.p = s.p;
  a.g = s.g;
  for (int k = 0; k < Cfg::states; ++k) a.state[k] = s.state[k];
  if constexpr (Cfg::ema > 0) a.ema = s.ema;
  a.n = s.n;
  a.row = s.row;
  a.clip = s.clip;
  return a;
}

template <auto Plan, bool Decay>
loop_view view_of() {
  using cfg = cg::update_cfg<Plan, Decay>;
  using ref_cfg = cg::update_cfg<Plan, Decay, double>;
  static_assert(cfg::states <= 4, "loop_state holds at most 4 state vectors");
  loop_view v{.states = cfg::states,
              .ema = cfg::ema > 0,
              .rows = bool(cfg::rows),
              .decay = Decay,
              .lr = Plan.optimizer.lr};
  for (int k = 0; k < cfg::states; ++k) v.state_init[k] = cfg::opt.state_init(k);
  v.step = [](std::int64_t target, const loop_state<float>& s, long t, double lr) {
    auto a = args_of<cfg>(s);
    cg::prepare(a, {t, lr});
    cg::update_on(target, a);
  };
  v.reference = [](const loop_state<double>& s, long t, double lr) {
    auto a = args_of<ref_cfg>(s);
    cg::prepare(a, {t, lr});
    cg::reference_update(a);
  };
  return v;
}

inline void check_loop(const loop_view& v) {
  const int S = v.states;
  // The first FMA target's floats after the 100 steps, per (n, misalign) case, in order.
  std::vector<std::vector<float>> first_fma;
  for (const std::int64_t target : cg::available_targets()) {
    std::size_t case_index = 0;
    for (const std::size_t n : {0, 1, 3, 5, 7, 9, 15, 17, 1027}) {
      for (const std::size_t misalign : {0, 1}) {
        rt::rng r(n * 31 + misalign, 5);
        std::vector<float> p(n + misalign), g(n + misalign), e(n + misalign), s[4];
        std::vector<double> rp(n), rg(n), re(n), rs[4];
        float* const gp = g.data() + misalign;
        loop_state<float> a;
        loop_state<double> ra;
        a.p = p.data() + misalign;
        a.g = gp;
        ra.p = rp.data();
        ra.g = rg.data();
        for (int k = 0; k < S; ++k) {
          s[k].assign(n + misalign, float(v.state_init[k]));
          rs[k].assign(n, v.state_init[k]);
          a.state[k] = s[k].data() + misalign;
          ra.state[k] = rs[k].data();
        }
        if (v.ema) a.ema = e.data() + misalign, ra.ema = re.data();
        a.n = ra.n = n;
        a.row = ra.row = v.rows ? row_for(n) : 0;
        for (std::size_t i = 0; i < n; ++i) a.p[i] = float(rp[i] = r.uniform(-1, 1));
        if (n > 2) a.p[2] = float(rp[2] = 0);  // sign(0) = 0 for l1
        for (std::size_t i = 0; i < n; ++i) e[i + misalign] = float(re[i] = rp[i]);
        // Each step starts the reference from the float state, so that the comparison sees
        // one step's roundings, not the drift of 100 steps apart.
        double worst = 0;
        auto compare = [&](const float* x, const std::vector<double>& ref) {
          for (std::size_t i = 0; i < n; ++i)
            worst = std::max(worst, std::abs(x[i] - ref[i]) / std::max(1.0, std::abs(ref[i])));
        };
        for (long t = 1; t <= 100; ++t) {
          for (std::size_t i = 0; i < n; ++i) {
            rp[i] = a.p[i];
            if (v.ema) re[i] = a.ema[i];
            for (int k = 0; k < S; ++k) rs[k][i] = a.state[k][i];
          }
          for (std::size_t i = 0; i < n; ++i) gp[i] = float(rg[i] = r.uniform(-1, 1));
          const double lr = v.lr * (t % 7 == 0 ? 0.5 : 1.0);  // a schedule
          a.clip = ra.clip = t % 3 == 0 ? 0.25 : 1.0;         // clip_norm's scale
          v.step(target, a, t, lr);
          v.reference(ra, t, lr);
          compare(a.p, rp);
          if (v.ema) compare(a.ema, re);
          for (int k = 0; k < S; ++k) compare(a.state[k], rs[k]);
        }
        BOOST_TEST_MESSAGE(cg::target_name(target)
                           << " decay=" << v.decay << " n=" << n << ": worst " << worst / u << "u");
        BOOST_TEST(worst < loop_tolerance, cg::target_name(target)
                                               << " decay=" << v.decay << " n=" << n
                                               << " misalign=" << misalign << " worst=" << worst);
        if (!v.rows && (target & fma_targets)) {
          std::vector<float> floats(a.p, a.p + n);
          if (v.ema) floats.insert(floats.end(), a.ema, a.ema + n);
          for (int k = 0; k < S; ++k) floats.insert(floats.end(), a.state[k], a.state[k] + n);
          if (first_fma.size() == case_index)
            first_fma.push_back(std::move(floats));
          else
            BOOST_TEST(bitwise_equal(floats, first_fma[case_index]),
                       cg::target_name(target)
                           << " against the first FMA target, bit for bit"
                           << " decay=" << v.decay << " n=" << n << " misalign=" << misalign);
          ++case_index;
        }
      }
    }
  }
}

template <auto Plan, bool Decay>
void check_loop() {
  check_loop(view_of<Plan, Decay>());
}

// A plan's loop for tensors that take decay (weights) and for those that opt out (biases).
template <auto Plan>
void check_both() {
  check_loop<Plan, true>();
  check_loop<Plan, false>();
}

// The optimizer `O` with every regularizer the DSL offers, alone and all at once.
template <auto O>
void check_with_every_regularizer() {
  using namespace kiln::dsl;
  check_both<training_plan{.optimizer = O}>();
  check_both<training_plan{.optimizer = O, .regularizer = l2{1e-2}}>();
  check_both<training_plan{.optimizer = O, .regularizer = l1{1e-3}}>();
  check_both<training_plan{.optimizer = O, .regularizer = l2{1e-2} + l1{1e-3}}>();
  check_both<training_plan{.optimizer = O, .regularizer = max_norm{1.0}}>();
  check_both<training_plan{.optimizer = O, .regularizer = clip_value{0.5}}>();
  check_both<training_plan{.optimizer = O, .regularizer = clip_norm{1.0}}>();
  check_both<training_plan{.optimizer = O,
                           .regularizer = clip_value{0.5} + l2{1e-2} + l1{1e-3} + max_norm{1.0}}>();
}

}  // namespace kiln::test
