// Compiles vector-inl.h for every Highway target and exports its kernels for float and double.
#include "kiln/codegen/kernels/vector.hpp"

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kiln/codegen/kernels/vector-inl.h"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

#include "kiln/codegen/kernels/vector-inl.h"

#if HWY_ONCE
#include "kiln/codegen/dispatch.hpp"

namespace kiln::kernels {

// One dispatch table per kernel and element type (the kernels are templates on it).
KILN_EXPORT_T(dot_table, Dot);
KILN_EXPORT_T(axpy_table, Axpy);
KILN_EXPORT_T(scale_table, Scale);
KILN_EXPORT_T(abs_max_table, AbsMax);
KILN_EXPORT_T(abs_sum_table, AbsSum);
KILN_EXPORT_T(axpy_dot_table, AxpyDot);
KILN_EXPORT_T(curvature_pair_table, CurvaturePair);
KILN_EXPORT_T(finite_difference_table, FiniteDifference);
KILN_EXPORT_T(penalty_table, Penalty);
KILN_EXPORT_T(two_loop_table, TwoLoop);

using codegen::dispatch;

// The same entry points for both element types.
#define KILN_VECTOR_KERNELS(T)                                                                   \
  double dot(const T* x, const T* y, std::size_t n) { return dispatch<dot_table<T>>(x, y, n); }  \
  void axpy(T a, const T* x, T* y, std::size_t n) { dispatch<axpy_table<T>>(a, x, y, n); }       \
  void scale(T a, const T* x, T* y, std::size_t n) { dispatch<scale_table<T>>(a, x, y, n); }     \
  double abs_max(const T* x, std::size_t n) { return dispatch<abs_max_table<T>>(x, n); }         \
  double abs_sum(const T* x, std::size_t n) { return dispatch<abs_sum_table<T>>(x, n); }         \
  double axpy_dot(T a, const T* x, T* y, const T* z, std::size_t n) {                            \
    return dispatch<axpy_dot_table<T>>(a, x, y, z, n);                                           \
  }                                                                                              \
  sums curvature_pair(const T* g, const T* g_prev, const T* d, T t, T* y, T* s, std::size_t n) { \
    return dispatch<curvature_pair_table<T>>(g, g_prev, d, t, y, s, n);                          \
  }                                                                                              \
  double finite_difference(const T* g_h, const T* g, const T* v, T inv_h, T damping, T* hv,      \
                           std::size_t n) {                                                      \
    return dispatch<finite_difference_table<T>>(g_h, g, v, inv_h, damping, hv, n);               \
  }                                                                                              \
  double penalty(const T* w, T* g, std::size_t n, T l2, T l1) {                                  \
    return dispatch<penalty_table<T>>(w, g, n, l2, l1);                                          \
  }                                                                                              \
  void two_loop(const two_loop_args<T>& a) { dispatch<two_loop_table<T>>(a); }

KILN_VECTOR_KERNELS(float)
KILN_VECTOR_KERNELS(double)
#undef KILN_VECTOR_KERNELS

}  // namespace kiln::kernels
#endif  // HWY_ONCE
