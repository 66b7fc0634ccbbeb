// The fused update of a plan on every compiled Highway target against the double-precision
// scalar loop of the same formulas (codegen/update/reference.hpp): 100 steps with a changing
// learning rate and clipping scale, sizes around every target's lane count, unaligned pointers.
// Parameters, gradients and every state vector are compared.
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

namespace kiln::test {

namespace cg = kiln::codegen;

// Error allowed after 100 float steps, relative to max(1, |reference|). Each step rounds the new
// weight once (u of max(1, |p|)) and its update, lr·d with lr <= 0.05 and |d| of order 1, through
// at most 20 operations (u each; a non-FMA target rounds a multiply-add twice): about
// (1 + 20·0.05)u a step, 200u over 100 steps, growing linearly (the gradients are given, not
// computed from p). State vectors contract (β < 1) or add gradients: Adam's v, 3u a step over
// 1/(1 - β2) steps of values below 0.05, adagrad's sum within sum_error(100) of its size. 2e-5
// is 335u. (l1's sign(p) could differ from the reference's for a p within a rounding of 0: the
// fixed data never puts one there.)
inline constexpr double loop_tolerance = 2e-5;

// Row length for row constraints: several rows (the last one shorter where n is not a multiple).
inline std::size_t row_for(std::size_t n) { return n >= 1000 ? 79 : n > 5 ? 5 : n; }

template <auto Plan, bool Decay>
void check_loop() {
  using cfg = cg::update_cfg<Plan, Decay>;
  using ref_cfg = cg::update_cfg<Plan, Decay, double>;
  constexpr int S = cfg::states;
  for (const std::int64_t target : cg::available_targets()) {
    for (const std::size_t n : {0, 1, 3, 5, 7, 9, 15, 17, 1027}) {
      for (const std::size_t misalign : {0, 1}) {
        rt::rng r(n * 31 + misalign, 5);
        std::vector<float> p(n + misalign), g(n + misalign), e(n + misalign), s[std::max(S, 1)];
        std::vector<double> rp(n), rg(n), re(n), rs[std::max(S, 1)];
        float* const gp = g.data() + misalign;
        cg::update_args<cfg> a;
        cg::update_args<ref_cfg> ra;
        a.p = p.data() + misalign;
        a.g = gp;
        ra.p = rp.data();
        ra.g = rg.data();
        for (int k = 0; k < S; ++k) {
          s[k].assign(n + misalign, float(cfg::opt.state_init(k)));
          rs[k].assign(n, cfg::opt.state_init(k));
          a.state[k] = s[k].data() + misalign;
          ra.state[k] = rs[k].data();
        }
        if constexpr (cfg::ema > 0) a.ema = e.data() + misalign, ra.ema = re.data();
        a.n = ra.n = n;
        a.row = ra.row = cfg::rows ? row_for(n) : 0;
        for (std::size_t i = 0; i < n; ++i) a.p[i] = float(rp[i] = r.uniform(-1, 1));
        if (n > 2) a.p[2] = float(rp[2] = 0);  // sign(0) = 0 for l1
        for (std::size_t i = 0; i < n; ++i) e[i + misalign] = float(re[i] = rp[i]);
        for (long t = 1; t <= 100; ++t) {
          for (std::size_t i = 0; i < n; ++i) gp[i] = float(rg[i] = r.uniform(-1, 1));
          const double lr = Plan.optimizer.lr * (t % 7 == 0 ? 0.5 : 1.0);  // a schedule
          a.clip = ra.clip = t % 3 == 0 ? 0.25 : 1.0;                      // clip_norm's scale
          cg::prepare(a, {t, lr});
          cg::prepare(ra, {t, lr});
          cg::update_on(target, a);
          cg::reference_update(ra);
        }
        double worst = 0;
        auto compare = [&](const float* x, const std::vector<double>& ref) {
          for (std::size_t i = 0; i < n; ++i)
            worst = std::max(worst, std::abs(x[i] - ref[i]) / std::max(1.0, std::abs(ref[i])));
        };
        compare(a.p, rp);
        if constexpr (cfg::ema > 0) compare(a.ema, re);
        for (int k = 0; k < S; ++k) compare(a.state[k], rs[k]);
        BOOST_TEST(worst < loop_tolerance, cg::target_name(target)
                                               << " decay=" << Decay << " n=" << n
                                               << " misalign=" << misalign << " worst=" << worst);
      }
    }
  }
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
