// optim_trace's generated loops. The optimizer is chosen at run time, but kiln generates its
// loops at compile time: this instantiates the fused loop for every *form* of every optimizer
// (its structural switches: momentum or not, Nesterov, centered, AMSGrad; codegen/update/<name>.hpp
// lists them) on every Highway target, with `values::runtime`: the hyperparameter values come
// with each call instead of being folded in as a plan's constants.
#pragma once

#include <kiln/codegen/trainer/full_batch.hpp>
#include <kiln/codegen/generate.hpp>
#include <hwy/targets.h>

#include <cmath>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <utility>

#include "optim_trace.hpp"

namespace optim_trace {

namespace cg = kiln::codegen;

// JSON numbers with 17 significant digits (non-finite values as Python's json writes them).
inline void print_number(double v) {
  if (std::isnan(v))
    std::fputs("NaN", stdout);
  else if (std::isinf(v))
    std::fputs(v > 0 ? "Infinity" : "-Infinity", stdout);
  else
    std::printf("%.17g", v);
}

// The loop compiled for form F, with the values `h` (whose form is F).
template <auto F, class T>
void run(const decltype(F)& h, const options& o) {
  using cfg =
      cg::update_cfg<kiln::dsl::training_plan{.optimizer = F}, true, T, cg::values::runtime>;
  const std::size_t n = o.start.size();
  std::vector<T> p(o.start.begin(), o.start.end()), g(n), s[std::max(cfg::states, 1)];
  std::vector<double> x(n), gx(n);
  cg::update_args<cfg> a;
  a.p = p.data();
  a.g = g.data();
  a.n = n;
  a.h = h;
  for (int k = 0; k < cfg::states; ++k) {
    s[k].assign(n, T(h.state_init(k)));
    a.state[k] = s[k].data();
  }
  for (long t = 1; t <= o.steps; ++t) {
    for (std::size_t i = 0; i < n; ++i) x[i] = double(p[i]);
    o.grad(x.data(), gx.data());
    for (std::size_t i = 0; i < n; ++i) g[i] = T(gx[i]);
    cg::prepare(a, {t, h.lr});
    if (o.target != 0)
      cg::update_on(o.target, a);
    else
      cg::update(a);
    std::fputc('[', stdout);
    for (std::size_t i = 0; i < n; ++i) {
      if (i) std::fputs(", ", stdout);
      print_number(double(p[i]));
    }
    std::fputs("]\n", stdout);
  }
}

inline void print_point(const auto& p) {
  std::fputc('[', stdout);
  for (std::size_t i = 0; i < p.size(); ++i) {
    if (i) std::fputs(", ", stdout);
    print_number(double(p[i]));
  }
  std::fputs("]\n", stdout);
}

// A test function as a full-batch solver sees it: the point in T; f and ∇f evaluated in double
// at it (the gradient rounded to T, as the generated loops get it).
template <class T>
class test_function final : public kiln::second_order::objective<T> {
 public:
  explicit test_function(const options& o)
      : o_(o), x_(o.start.begin(), o.start.end()), wide_(x_.size()), g_(x_.size()) {}
  std::span<T> point() override { return x_; }
  double evaluate(T* g) override {
    for (std::size_t i = 0; i < x_.size(); ++i) wide_[i] = double(x_[i]);
    o_.grad(wide_.data(), g_.data());
    for (std::size_t i = 0; i < x_.size(); ++i) g[i] = T(g_[i]);
    return o_.loss(wide_.data());
  }

 private:
  const options& o_;
  std::vector<T> x_;
  std::vector<double> wide_, g_;
};

// Full-batch optimizers: their solver, one line per step (PyTorch's optimizer.step(closure)).
// The solver's vector kernels dispatch like every kernel: --target restricts them to one.
template <class O, class T>
void solve(const O& h, const options& o) {
  test_function<T> f(o);
  typename cg::solver_for<O, T>::type solver(h, o.start.size());
  if (o.target != 0) hwy::SetSupportedTargetsForTest(o.target);
  for (long t = 1; t <= o.steps; ++t) {
    solver.step(f);
    print_point(f.point());
  }
  hwy::SetSupportedTargetsForTest(0);
}

template <class T>
void trace(const any_optimizer& any, const options& o) {
  std::visit(
      [&]<class O>(const O& h) {
        if constexpr (kiln::dsl::full_batch_optimizer<O>) {
          solve<O, T>(h, o);
        } else {
          using traits = cg::optim<O{}>;
          const auto form = traits::form(h);
          const bool compiled = [&]<std::size_t... I>(std::index_sequence<I...>) {
            return ((form == traits::forms[I] ? (run<traits::forms[I], T>(h, o), true) : false) ||
                    ...);
          }
          (std::make_index_sequence<traits::forms.size()>{});
          if (!compiled) throw std::logic_error(std::string(O::kind) + ": form not compiled");
        }
      },
      any);
}

}  // namespace optim_trace
