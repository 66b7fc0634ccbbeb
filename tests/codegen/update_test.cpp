// The fused update loop on every compiled Highway target against a double-precision scalar
// reference of PyTorch's formulas: 100 steps, awkward sizes, unaligned pointers.
#define BOOST_TEST_MODULE update
#include <boost/test/unit_test.hpp>

#include <kiln/kiln.hpp>

#include <cmath>
#include <vector>

using namespace kiln::dsl;
namespace cg = kiln::codegen;

namespace {

// The reference: PyTorch 1.13 SGD (foreach=False) after the plan's regularizers, in double.
template <auto Plan, bool Decay>
struct reference {
  std::vector<double> p, buf;
  explicit reference(const std::vector<float>& p0) : p(p0.begin(), p0.end()), buf(p0.size()) {}
  void step(const std::vector<float>& g32, long t, double lr) {
    constexpr auto o = Plan.optimizer;
    constexpr auto regs = as_regs(Plan.regularizer);
    for (std::size_t i = 0; i < p.size(); ++i) {
      double g = g32[i];
      if (Decay) {
        [&]<std::size_t... R>(std::index_sequence<R...>) {
          auto apply = [&](const auto& r) {
            if constexpr (std::is_same_v<std::remove_cvref_t<decltype(r)>, l2>)
              g += r.lambda * p[i];
            else
              g += r.lambda * (p[i] > 0 ? 1.0 : p[i] < 0 ? -1.0 : 0.0);
          };
          (apply(at<R>(regs)), ...);
        }
        (index_for<regs.size>{});
      }
      g += o.weight_decay * p[i];
      if (o.momentum != 0) {
        buf[i] = t == 1 ? g : o.momentum * buf[i] + (1 - o.dampening) * g;
        g = o.nesterov ? g + o.momentum * buf[i] : buf[i];
      }
      p[i] -= lr * g;
    }
  }
};

template <auto Plan, bool Decay>
void check_plan() {
  using cfg = cg::update_cfg<Plan, Decay>;
  for (const std::int64_t target : cg::available_targets()) {
    const std::size_t lanes = 64 / sizeof(float);  // covers every target's lane count
    for (const std::size_t n : {std::size_t(0), std::size_t(1), std::size_t(3), lanes - 1,
                                lanes + 1, std::size_t(1027)}) {
      for (const std::size_t misalign : {std::size_t(0), std::size_t(1)}) {
        kiln::rt::rng r(n * 31 + misalign, 5);
        std::vector<float> storage_p(n + misalign), storage_g(n + misalign),
            storage_s(n + misalign);
        float* p = storage_p.data() + misalign;
        float* g = storage_g.data() + misalign;
        float* s = storage_s.data() + misalign;
        std::vector<float> p0(n);
        for (std::size_t i = 0; i < n; ++i) p[i] = p0[i] = r.uniform(-1, 1);
        if (n > 2) p[2] = p0[2] = 0.0f;  // sign(0) = 0 for l1
        reference<Plan, Decay> ref(p0);
        std::vector<float> grads(n);
        for (long t = 1; t <= 100; ++t) {
          for (std::size_t i = 0; i < n; ++i) g[i] = grads[i] = r.uniform(-1, 1);
          const double lr = Plan.optimizer.lr * (t % 7 == 0 ? 0.5 : 1.0);  // a changing lr
          cg::update_args<cfg> a;
          a.p = p;
          a.g = g;
          a.state[0] = s;
          a.n = n;
          a.k = cg::optim<Plan.optimizer>::at({t, lr});
          cg::update_on(target, a);
          ref.step(grads, t, lr);
        }
        double worst = 0;
        for (std::size_t i = 0; i < n; ++i)
          worst = std::max(worst, std::abs(p[i] - ref.p[i]) / std::max(1.0, std::abs(ref.p[i])));
        BOOST_TEST(worst < 2e-5, cg::target_name(target) << " n=" << n << " misalign=" << misalign
                                                         << " worst=" << worst);
      }
    }
  }
}

}  // namespace

BOOST_AUTO_TEST_CASE(every_target_is_compiled_and_available) {
  const auto targets = cg::available_targets();
  BOOST_TEST(targets.size() >= 2u);  // at least one SIMD target and the scalar fallback
  BOOST_TEST(cg::target_name(targets.back()) == "SCALAR");
  BOOST_TEST(cg::chosen_target() == targets.front());
}

BOOST_AUTO_TEST_CASE(plain_sgd) { check_plan<schedule{.optimizer = sgd{.lr = 0.05}}, true>(); }

BOOST_AUTO_TEST_CASE(momentum) {
  check_plan<schedule{.optimizer = sgd{.lr = 0.05, .momentum = 0.9}}, true>();
}

BOOST_AUTO_TEST_CASE(momentum_with_dampening) {
  check_plan<schedule{.optimizer = sgd{.lr = 0.05, .momentum = 0.8, .dampening = 0.3}}, true>();
}

BOOST_AUTO_TEST_CASE(nesterov) {
  check_plan<schedule{.optimizer = sgd{.lr = 0.05, .momentum = 0.9, .nesterov = true}}, true>();
}

BOOST_AUTO_TEST_CASE(coupled_weight_decay) {
  check_plan<schedule{.optimizer = sgd{.lr = 0.05, .momentum = 0.9, .weight_decay = 1e-2}}, true>();
}

BOOST_AUTO_TEST_CASE(l2_and_l1_regularizers) {
  constexpr auto elastic =
      schedule{.optimizer = sgd{.lr = 0.05, .momentum = 0.9}, .regularizer = l2{1e-2} + l1{1e-3}};
  check_plan<elastic, true>();
  check_plan<elastic, false>();  // a tensor that opts out (a bias): no regularizer terms
  check_plan<schedule{.optimizer = sgd{.lr = 0.05}, .regularizer = l1{1e-2}}, true>();
}

BOOST_AUTO_TEST_CASE(unsupported_target_is_an_error) {
  constexpr auto plan = schedule{.optimizer = sgd{.lr = 0.05}};
  using cfg = cg::update_cfg<plan, true>;
  cg::update_args<cfg> a;
  BOOST_CHECK_THROW(cg::update_on(std::int64_t(1) << 60, a), kiln::config_error);
}
