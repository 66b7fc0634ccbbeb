// The solvers' vector kernels on every compiled Highway target, float and double, against a
// plain double-precision reference: awkward lengths (0, 1, tails of every width) and unaligned
// pointers.
#define BOOST_TEST_MODULE second_order_kernels
#include <boost/test/unit_test.hpp>

#include <kiln/codegen/dispatch.hpp>
#include <kiln/codegen/kernels/vector.hpp>
#include <kiln/core/rng.hpp>

#include <hwy/targets.h>

#include "../support/every_target.hpp"

#include <cmath>
#include <vector>

namespace k = kiln::kernels;
namespace tt = boost::test_tools;

namespace {

const std::size_t lengths[] = {0, 1, 2, 3, 7, 8, 9, 15, 17, 33, 1027};

// n values in [-1, 1] (every fifth one exactly 0, for sign(0)), starting `misalign` elements into
// their storage so that no pointer is vector-aligned.
template <class T>
struct data {
  std::vector<T> storage;
  T* v;
  data(std::size_t n, std::uint64_t seed, std::size_t misalign = 1) : storage(n + misalign) {
    v = storage.data() + misalign;
    kiln::rt::rng r(seed, 3);
    for (std::size_t i = 0; i < n; ++i) v[i] = i % 5 == 4 ? T(0) : T(r.uniform(-1, 1));
  }
  std::vector<double> wide(std::size_t n) const { return {v, v + n}; }
};

// One rounding to T of a result whose terms are at most `size` in magnitude (a relative
// tolerance would fail on cancellation).
template <class T>
bool rounded_once(double actual, double expect, double size) {
  const double eps = std::is_same_v<T, float> ? 0x1p-24 : 0x1p-53;
  return std::abs(actual - expect) <= 2 * eps * size;
}

// Two double sums of n terms (products of stored values, each rounded once for T = double) in
// different orders: within 2(n + 1)·2^-53 of Σ|terms| of each other (Higham 3.1; relative to
// the result, cancellation would fail).
double reordered(std::size_t n, double magnitude) {
  return 2 * double(n + 1) * 0x1p-53 * magnitude;
}

template <class T>
void check_reductions() {
  for (std::size_t n : lengths) {
    BOOST_TEST_CONTEXT("n = " << n) {
      const data<T> a(n, n + 1), b(n, n + 2);
      double dot = 0, max = 0, sum = 0;
      for (std::size_t i = 0; i < n; ++i) {
        dot += double(a.v[i]) * double(b.v[i]);
        max = std::max(max, std::abs(double(a.v[i])));
        sum += std::abs(double(a.v[i]));
      }
      // Sums accumulate in double, whatever T is: n terms in another order.
      double magnitude = 0;
      for (std::size_t i = 0; i < n; ++i) magnitude += std::abs(double(a.v[i]) * double(b.v[i]));
      BOOST_TEST(std::abs(k::dot(a.v, b.v, n) - dot) <= reordered(n, magnitude));
      BOOST_TEST(k::abs_max(a.v, n) == max);
      BOOST_TEST(std::abs(k::abs_sum(a.v, n) - sum) <= reordered(n, sum));
    }
  }
}

template <class T>
void check_updates() {
  for (std::size_t n : lengths) {
    BOOST_TEST_CONTEXT("n = " << n) {
      const data<T> x(n, 3 * n + 1), z(n, 3 * n + 2);
      data<T> y(n, 3 * n + 3), s(n, 3 * n + 4), out(n, 3 * n + 5);
      const std::vector<double> y0 = y.wide(n);
      const T a = T(0.37);

      k::axpy(a, x.v, y.v, n);
      for (std::size_t i = 0; i < n; ++i)
        BOOST_TEST(rounded_once<T>(y.v[i], y0[i] + double(a) * x.v[i], 2));

      k::scale(a, x.v, s.v, n);
      for (std::size_t i = 0; i < n; ++i)
        BOOST_TEST(rounded_once<T>(s.v[i], double(a) * x.v[i], 1));

      // y += a·x, then zᵀy from the stored (rounded) y.
      const std::vector<double> y1 = y.wide(n);
      const double zy = k::axpy_dot(a, x.v, y.v, z.v, n);
      double expect = 0, magnitude = 0;
      for (std::size_t i = 0; i < n; ++i) {
        BOOST_TEST(rounded_once<T>(y.v[i], y1[i] + double(a) * x.v[i], 4));
        expect += double(z.v[i]) * double(y.v[i]);
        magnitude += std::abs(double(z.v[i]) * double(y.v[i]));
      }
      BOOST_TEST(std::abs(zy - expect) <= reordered(n, magnitude));
      BOOST_TEST(k::axpy_dot(a, x.v, y.v, static_cast<const T*>(nullptr), n) == 0.0);
    }
  }
}

template <class T>
void check_solver_kernels() {
  for (std::size_t n : lengths) {
    BOOST_TEST_CONTEXT("n = " << n) {
      const data<T> g(n, 7 * n + 1), g_prev(n, 7 * n + 2), d(n, 7 * n + 3), w(n, 7 * n + 4);
      data<T> y(n, 7 * n + 5), s(n, 7 * n + 6), hv(n, 7 * n + 7), grad(n, 7 * n + 8);
      const T t = T(0.25);

      const auto [ys, yy] = k::curvature_pair(g.v, g_prev.v, d.v, t, y.v, s.v, n);
      double ys_ref = 0, yy_ref = 0, ys_size = 0;
      for (std::size_t i = 0; i < n; ++i) {
        BOOST_TEST(y.v[i] == T(g.v[i] - g_prev.v[i]));  // one rounding, as PyTorch's sub
        BOOST_TEST(s.v[i] == T(d.v[i] * t));
        ys_ref += double(y.v[i]) * double(s.v[i]);
        yy_ref += double(y.v[i]) * double(y.v[i]);
        ys_size += std::abs(double(y.v[i]) * double(s.v[i]));
      }
      BOOST_TEST(std::abs(ys - ys_ref) <= reordered(n, ys_size));
      BOOST_TEST(std::abs(yy - yy_ref) <= reordered(n, yy_ref));  // terms >= 0

      // hv = (g − g_prev)/h + λ·d, and dᵀhv.
      const T inv_h = T(8), damping = T(0.5);
      const double vhv = k::finite_difference(g.v, g_prev.v, d.v, inv_h, damping, hv.v, n);
      double vhv_ref = 0, vhv_size = 0;
      for (std::size_t i = 0; i < n; ++i) {
        const double expect = (double(g.v[i]) - double(g_prev.v[i])) * 8 + 0.5 * double(d.v[i]);
        BOOST_TEST(rounded_once<T>(hv.v[i], expect, 16));
        vhv_ref += double(d.v[i]) * double(hv.v[i]);
        vhv_size += std::abs(double(d.v[i]) * double(hv.v[i]));
      }
      BOOST_TEST(std::abs(vhv - vhv_ref) <= reordered(n, vhv_size));

      // l2/2·‖w‖² + l1·‖w‖₁, its gradient added to grad.
      const std::vector<double> grad0 = grad.wide(n);
      const T l2 = T(0.125), l1 = T(0.0625);
      const double value = k::penalty(w.v, grad.v, n, l2, l1);
      double value_ref = 0;
      for (std::size_t i = 0; i < n; ++i) {
        const double wi = w.v[i], sign = wi > 0 ? 1 : wi < 0 ? -1 : 0;
        value_ref += 0.125 / 2 * wi * wi + 0.0625 * std::abs(wi);
        BOOST_TEST(rounded_once<T>(grad.v[i], grad0[i] + 0.125 * wi + 0.0625 * sign, 2));
      }
      // 2n terms >= 0 (a square's rounding for T = double: within the 2(2n + 1) allowed).
      BOOST_TEST(std::abs(value - value_ref) <= reordered(2 * n, value_ref));
    }
  }
}

// The two-loop recursion against its definition, in double: d = −H·g.
template <class T>
void check_two_loop() {
  for (std::size_t n : {std::size_t(1), std::size_t(5), std::size_t(33), std::size_t(1027)}) {
    for (std::size_t count : {std::size_t(0), std::size_t(1), std::size_t(4)}) {
      BOOST_TEST_CONTEXT("n = " << n << ", pairs = " << count) {
        const data<T> g(n, 11 * n + count);
        std::vector<data<T>> s, y;
        std::vector<const T*> sp, yp;
        std::vector<double> rho;
        for (std::size_t i = 0; i < count; ++i) {
          s.emplace_back(n, 100 + i);
          y.emplace_back(n, 200 + i);
          // Keep yᵀs > 0 as L-BFGS does: y = s + small noise.
          for (std::size_t j = 0; j < n; ++j)
            y.back().v[j] = s.back().v[j] + T(0.1) * y.back().v[j];
          sp.push_back(s.back().v);
          yp.push_back(y.back().v);
          double ys = 0;
          for (std::size_t j = 0; j < n; ++j) ys += double(y.back().v[j]) * s.back().v[j];
          rho.push_back(1 / ys);
        }
        // Beside the reference, a first-order running error bound e (Higham 3.3) on |d − q|: the
        // kernel rounds each coefficient (α, α − β, h0) to T and each product and sum of an
        // element to T (u_T each, one fused rounding or two), its dot products accumulate in
        // double; the reference rounds every operation in double. Both errors are counted (u_T
        // + 2^-53 a rounding), dot products as two orders of n + 1 double roundings.
        const double uT = std::is_same_v<T, float> ? 0x1p-24 : 0x1p-53, ud = 0x1p-53;
        const double ur = uT + ud, dot = 2 * double(n + 1) * ud;
        const double h0 = 0.8;
        std::vector<double> q(g.v, g.v + n), alpha(count), alpha_ref(count), e(n, 0.0);
        std::vector<double> e_alpha(count);
        for (double& v : q) v = -v;
        for (std::size_t i = count; i-- > 0;) {
          double sq = 0, magnitude = 0, carried = 0;
          for (std::size_t j = 0; j < n; ++j) {
            sq += sp[i][j] * q[j];
            magnitude += std::abs(sp[i][j] * q[j]), carried += std::abs(double(sp[i][j])) * e[j];
          }
          alpha_ref[i] = rho[i] * sq;
          e_alpha[i] = std::abs(rho[i]) * (carried + dot * magnitude) +
                       (uT + 2 * ud) * std::abs(alpha_ref[i]);
          for (std::size_t j = 0; j < n; ++j) {
            q[j] -= alpha_ref[i] * yp[i][j];
            e[j] += std::abs(double(yp[i][j])) * e_alpha[i] +
                    ur * (std::abs(alpha_ref[i] * yp[i][j]) + std::abs(q[j]));
          }
        }
        for (std::size_t j = 0; j < n; ++j) {
          q[j] *= h0;
          e[j] = h0 * e[j] + 2 * ur * std::abs(q[j]);  // T(h0), then the product
        }
        for (std::size_t i = 0; i < count; ++i) {
          double yr = 0, magnitude = 0, carried = 0;
          for (std::size_t j = 0; j < n; ++j) {
            yr += yp[i][j] * q[j];
            magnitude += std::abs(yp[i][j] * q[j]), carried += std::abs(double(yp[i][j])) * e[j];
          }
          const double c = alpha_ref[i] - rho[i] * yr;
          const double e_c = e_alpha[i] + std::abs(rho[i]) * (carried + dot * magnitude) +
                             (uT + 4 * ud) * (std::abs(rho[i] * yr) + std::abs(c));
          for (std::size_t j = 0; j < n; ++j) {
            q[j] += c * sp[i][j];
            e[j] +=
                std::abs(double(sp[i][j])) * e_c + ur * (std::abs(c * sp[i][j]) + std::abs(q[j]));
          }
        }
        data<T> d(n, 5);
        k::two_loop_args<T> a;
        a.g = g.v, a.s = sp.data(), a.y = yp.data(), a.rho = rho.data(), a.count = count;
        a.h0 = h0, a.alpha = alpha.data(), a.d = d.v, a.n = n;
        k::two_loop(a);
        double used = 0, widest = 0;  // the largest error's share of its bound; the largest e/|q|
        for (std::size_t j = 0; j < n; ++j) {
          BOOST_TEST(std::abs(d.v[j] - q[j]) <= e[j]);
          used = std::max(used, std::abs(d.v[j] - q[j]) / e[j]);
          widest = std::max(widest, e[j] / std::abs(q[j]));
        }
        BOOST_TEST_MESSAGE("two_loop: error " << used << " of the bound, bound/|d| <= " << widest);
      }
    }
  }
}

}  // namespace

BOOST_AUTO_TEST_CASE(sums_accumulate_in_double_on_every_target) {
  kiln::test::on_every_target([] {
    check_reductions<float>();
    check_reductions<double>();
  });
}

BOOST_AUTO_TEST_CASE(element_wise_updates_on_every_target) {
  kiln::test::on_every_target([] {
    check_updates<float>();
    check_updates<double>();
  });
}

BOOST_AUTO_TEST_CASE(curvature_pairs_finite_differences_and_penalties_on_every_target) {
  kiln::test::on_every_target([] {
    check_solver_kernels<float>();
    check_solver_kernels<double>();
  });
}

BOOST_AUTO_TEST_CASE(two_loop_recursion_is_minus_h_times_g_on_every_target) {
  kiln::test::on_every_target([] {
    check_two_loop<float>();
    check_two_loop<double>();
  });
}
