// Vector algebra of the full-batch solvers (L-BFGS, Newton-CG) on flat parameter vectors, for
// float (a trainer's parameters) and double (problems solved in double precision). Compiled
// once for every Highway target (vector.cpp) and dispatched at run time to the best one.
// Element-wise results are rounded to the element type; sums accumulate in double.
#pragma once

#include <cstddef>
#include <utility>

namespace kiln::kernels {

using sums = std::pair<double, double>;

// xᵀy
double dot(const float* x, const float* y, std::size_t n);
double dot(const double* x, const double* y, std::size_t n);
// y += a·x
void axpy(float a, const float* x, float* y, std::size_t n);
void axpy(double a, const double* x, double* y, std::size_t n);
// y = a·x (x == y allowed)
void scale(float a, const float* x, float* y, std::size_t n);
void scale(double a, const double* x, double* y, std::size_t n);
// max |x_i| (0 for n = 0) and Σ |x_i|
double abs_max(const float* x, std::size_t n);
double abs_max(const double* x, std::size_t n);
double abs_sum(const float* x, std::size_t n);
double abs_sum(const double* x, std::size_t n);
// y += a·x, then zᵀy (0 when z is null): one pass.
double axpy_dot(float a, const float* x, float* y, const float* z, std::size_t n);
double axpy_dot(double a, const double* x, double* y, const double* z, std::size_t n);
// An L-BFGS curvature pair: y = g − g_prev, s = t·d; returns {yᵀs, yᵀy}.
sums curvature_pair(const float* g, const float* g_prev, const float* d, float t, float* y,
                    float* s, std::size_t n);
sums curvature_pair(const double* g, const double* g_prev, const double* d, double t, double* y,
                    double* s, std::size_t n);
// A Hessian-vector product from a finite difference of gradients, damped:
// hv = (g_h − g)·inv_h + damping·v; returns vᵀhv.
double finite_difference(const float* g_h, const float* g, const float* v, float inv_h,
                         float damping, float* hv, std::size_t n);
double finite_difference(const double* g_h, const double* g, const double* v, double inv_h,
                         double damping, double* hv, std::size_t n);
// The penalties l2/2·‖w‖² + l1·‖w‖₁: adds their gradient l2·w + l1·sign(w) to g (sign(0) = 0)
// and returns their value.
double penalty(const float* w, float* g, std::size_t n, float l2, float l1);
double penalty(const double* w, double* g, std::size_t n, double l2, double l1);

// The L-BFGS two-loop recursion: d = −H·g, H the inverse-Hessian approximation from `count`
// curvature pairs (s[i], y[i]) with rho[i] = 1/(y[i]ᵀs[i]), oldest first, over H₀ = h0·I.
// alpha is scratch for `count` values. 2·count + 1 passes over memory.
template <class T>
struct two_loop_args {
  const T* g = nullptr;
  const T* const* s = nullptr;
  const T* const* y = nullptr;
  const double* rho = nullptr;
  std::size_t count = 0;
  double h0 = 1;
  double* alpha = nullptr;
  T* d = nullptr;
  std::size_t n = 0;
};
void two_loop(const two_loop_args<float>& a);
void two_loop(const two_loop_args<double>& a);

}  // namespace kiln::kernels
