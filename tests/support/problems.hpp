// Test functions for the full-batch solvers, as kiln::second_order::objective: Rosenbrock's
// function, convex quadratics, a double well. Each records every point it is evaluated at.
#pragma once

#include <kiln/codegen/second_order/objective.hpp>

#include <cmath>
#include <span>
#include <vector>

namespace kiln::test {

template <class T>
class recorded : public second_order::objective<T> {
 public:
  explicit recorded(std::vector<T> start) : x_(std::move(start)) {}

  std::span<T> point() override { return x_; }
  double evaluate(T* g) override {
    points.emplace_back(x_.begin(), x_.end());
    losses.push_back(value(x_.data(), g));
    return losses.back();
  }

  std::vector<std::vector<double>> points;  // every evaluation, in order
  std::vector<double> losses;

 protected:
  virtual double value(const T* x, T* g) const = 0;

 private:
  std::vector<T> x_;
};

// (1 − x₀)² + 100·(x₁ − x₀²)²: minimum 0 at (1, 1).
template <class T>
class rosenbrock final : public recorded<T> {
 public:
  explicit rosenbrock(std::vector<T> start = {T(-1.2), T(1)}) : recorded<T>(std::move(start)) {}

 protected:
  double value(const T* x, T* g) const override {
    const T a = 1 - x[0], b = x[1] - x[0] * x[0];
    g[0] = -2 * a - 400 * x[0] * b;
    g[1] = 200 * b;
    return double(a * a + 100 * b * b);
  }
};

// ½·xᵀAx − bᵀx with A symmetric (row-major n×n): gradient Ax − b.
template <class T>
class quadratic final : public recorded<T> {
 public:
  quadratic(std::vector<double> a, std::vector<double> b, std::vector<T> start)
      : recorded<T>(std::move(start)), a_(std::move(a)), b_(std::move(b)) {}

  // The minimizer A⁻¹b, by Gaussian elimination (small n).
  std::vector<double> solution() const {
    const std::size_t n = b_.size();
    std::vector<double> m = a_, x = b_;
    for (std::size_t c = 0; c < n; ++c)
      for (std::size_t r = c + 1; r < n; ++r) {
        const double f = m[r * n + c] / m[c * n + c];
        for (std::size_t k = c; k < n; ++k) m[r * n + k] -= f * m[c * n + k];
        x[r] -= f * x[c];
      }
    for (std::size_t c = n; c-- > 0;) {
      for (std::size_t k = c + 1; k < n; ++k) x[c] -= m[c * n + k] * x[k];
      x[c] /= m[c * n + c];
    }
    return x;
  }
  const std::vector<double>& matrix() const { return a_; }
  const std::vector<double>& rhs() const { return b_; }

 protected:
  double value(const T* x, T* g) const override {
    const std::size_t n = b_.size();
    double f = 0;
    for (std::size_t r = 0; r < n; ++r) {
      double ax = 0;
      for (std::size_t c = 0; c < n; ++c) ax += a_[r * n + c] * double(x[c]);
      g[r] = T(ax - b_[r]);
      f += 0.5 * double(x[r]) * ax - b_[r] * double(x[r]);
    }
    return f;
  }

 private:
  std::vector<double> a_, b_;
};

// A = QΛQᵀ with eigenvalues spread from 1 to `condition` and Q a Householder reflection, b and
// the start fixed: an ill-conditioned convex quadratic of n unknowns.
template <class T>
quadratic<T> conditioned_quadratic(std::size_t n, double condition) {
  std::vector<double> v(n), a(n * n), b(n);
  for (std::size_t i = 0; i < n; ++i) {
    v[i] = std::sin(double(i) + 1);
    b[i] = std::cos(3.0 * double(i));
  }
  double vv = 0;
  for (double e : v) vv += e * e;
  for (std::size_t r = 0; r < n; ++r)
    for (std::size_t c = 0; c < n; ++c)
      for (std::size_t k = 0; k < n; ++k) {
        const double lambda = std::pow(condition, double(k) / double(n - 1));
        const double qr = (r == k) - 2 * v[r] * v[k] / vv, qc = (c == k) - 2 * v[c] * v[k] / vv;
        a[r * n + c] += qr * lambda * qc;
      }
  return quadratic<T>(std::move(a), std::move(b), std::vector<T>(n, T(0)));
}

// x⁴/4 − x²/2 + y²/2: minima −1/4 at (±1, 0), a saddle at the origin. Its Hessian
// diag(3x² − 1, 1) is indefinite for |x| < 1/√3.
template <class T>
class double_well final : public recorded<T> {
 public:
  explicit double_well(std::vector<T> start) : recorded<T>(std::move(start)) {}

 protected:
  double value(const T* x, T* g) const override {
    g[0] = x[0] * x[0] * x[0] - x[0];
    g[1] = x[1];
    return double(x[0] * x[0] * x[0] * x[0] / 4 - x[0] * x[0] / 2 + x[1] * x[1] / 2);
  }
};

}  // namespace kiln::test
