#include "kiln/codegen/second_order/line_search.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "kiln/codegen/kernels/vector.hpp"

namespace kiln::second_order {

double cubic_interpolate(double x1, double f1, double g1, double x2, double f2, double g2,
                         double lo, double hi) {
  // Where x2 is the farther point: d1 = g1 + g2 − 3(f1 − f2)/(x1 − x2), d2 = √(d1² − g1·g2),
  // x = x2 − (x2 − x1)·(g2 + d2 − d1)/(g2 − g1 + 2·d2).
  const double d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2);
  const double d2_square = d1 * d1 - g1 * g2;
  if (!(d2_square >= 0)) return (lo + hi) / 2;
  const double d2 = std::sqrt(d2_square);
  const double x = x1 <= x2 ? x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
                            : x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2));
  return std::min(std::max(x, lo), hi);
}

template <class T>
strong_wolfe<T>::strong_wolfe(std::size_t n) : n_(n), memory_(4, n) {}

template <class T>
T* strong_wolfe<T>::spare(const T* a, const T* b) const {
  for (std::size_t i = 1; i < 4; ++i)
    if (memory_[i] != a && memory_[i] != b) return memory_[i];
  return nullptr;  // unreachable: three buffers, at most two in use
}

template <class T>
double strong_wolfe<T>::evaluate_at(objective<T>& f, double t, const T* d, T* g) {
  T* x = f.point().data();
  kernels::axpy(T(t), d, x, n_);
  const double loss = f.evaluate(g);
  std::memcpy(x, memory_[0], n_ * sizeof(T));
  return loss;
}

// A line-by-line port of PyTorch 1.13's _strong_wolfe (same conditions, same order), with
// buffers instead of clones.
template <class T>
typename strong_wolfe<T>::result strong_wolfe<T>::search(objective<T>& f, double t, const T* d,
                                                         double f0, const T* g0, double gtd0,
                                                         double tolerance_change) {
  std::memcpy(memory_[0], f.point().data(), n_ * sizeof(T));
  const double d_norm = kernels::abs_max(d, n_);

  T* g_new = spare(nullptr, nullptr);
  double f_new = evaluate_at(f, t, d, g_new);
  int evaluations = 1;
  double gtd_new = kernels::dot(g_new, d, n_);

  // Bracketing: an interval that holds a point satisfying the conditions.
  double t_prev = 0, f_prev = f0, gtd_prev = gtd0;
  const T* g_prev = g0;
  bool done = false;
  int iter = 0;
  double bracket[2] = {}, bracket_f[2] = {}, bracket_gtd[2] = {};
  const T* bracket_g[2] = {};
  int size = 0;  // 1: bracket holds one point, which satisfies the conditions
  auto set_bracket = [&] {
    bracket[0] = t_prev, bracket[1] = t;
    bracket_f[0] = f_prev, bracket_f[1] = f_new;
    bracket_g[0] = g_prev, bracket_g[1] = g_new;
    bracket_gtd[0] = gtd_prev, bracket_gtd[1] = gtd_new;
    size = 2;
  };
  while (iter < max_evaluations) {
    if (f_new > f0 + c1 * t * gtd0 || (iter > 1 && f_new >= f_prev)) {
      set_bracket();
      break;
    }
    if (std::abs(gtd_new) <= -c2 * gtd0) {
      bracket[0] = t, bracket_f[0] = f_new, bracket_g[0] = g_new;
      size = 1;
      done = true;
      break;
    }
    if (gtd_new >= 0) {
      set_bracket();
      break;
    }
    // Extrapolate by cubic interpolation, between 1.01·t and 10·t.
    const double min_step = t + 0.01 * (t - t_prev), max_step = t * 10, previous = t;
    t = cubic_interpolate(t_prev, f_prev, gtd_prev, t, f_new, gtd_new, min_step, max_step);
    t_prev = previous;
    f_prev = f_new;
    g_prev = g_new;
    gtd_prev = gtd_new;
    g_new = spare(g_prev, nullptr);
    f_new = evaluate_at(f, t, d, g_new);
    ++evaluations;
    gtd_new = kernels::dot(g_new, d, n_);
    ++iter;
  }
  if (iter == max_evaluations) {
    bracket[0] = 0, bracket[1] = t;
    bracket_f[0] = f0, bracket_f[1] = f_new;
    bracket_g[0] = g0, bracket_g[1] = g_new;
    size = 2;
  }

  // Zoom: shrink the bracket until a point satisfies the conditions.
  bool insufficient_progress = false;
  int low = bracket_f[0] <= bracket_f[size - 1] ? 0 : 1, high = 1 - low;
  while (!done && iter < max_evaluations) {
    if (std::abs(bracket[1] - bracket[0]) * d_norm < tolerance_change) break;
    t = cubic_interpolate(bracket[0], bracket_f[0], bracket_gtd[0], bracket[1], bracket_f[1],
                          bracket_gtd[1], std::min(bracket[0], bracket[1]),
                          std::max(bracket[0], bracket[1]));
    // A trial too close to an end of the bracket, twice in a row or outside it, moves to 10 %
    // of the bracket's length from that end.
    const double top = std::max(bracket[0], bracket[1]), bottom = std::min(bracket[0], bracket[1]);
    const double eps = 0.1 * (top - bottom);
    if (std::min(top - t, t - bottom) < eps) {
      if (insufficient_progress || t >= top || t <= bottom) {
        t = std::abs(t - top) < std::abs(t - bottom) ? top - eps : bottom + eps;
        insufficient_progress = false;
      } else {
        insufficient_progress = true;
      }
    } else {
      insufficient_progress = false;
    }

    g_new = spare(bracket_g[0], bracket_g[1]);
    f_new = evaluate_at(f, t, d, g_new);
    ++evaluations;
    gtd_new = kernels::dot(g_new, d, n_);
    ++iter;

    if (f_new > f0 + c1 * t * gtd0 || f_new >= bracket_f[low]) {
      // Armijo fails, or no lower than the low end: the trial becomes the high end.
      bracket[high] = t, bracket_f[high] = f_new, bracket_g[high] = g_new;
      bracket_gtd[high] = gtd_new;
      low = bracket_f[0] <= bracket_f[1] ? 0 : 1, high = 1 - low;
    } else {
      if (std::abs(gtd_new) <= -c2 * gtd0) {
        done = true;
      } else if (gtd_new * (bracket[high] - bracket[low]) >= 0) {
        // The old low end becomes the high end.
        bracket[high] = bracket[low], bracket_f[high] = bracket_f[low];
        bracket_g[high] = bracket_g[low], bracket_gtd[high] = bracket_gtd[low];
      }
      bracket[low] = t, bracket_f[low] = f_new, bracket_g[low] = g_new;
      bracket_gtd[low] = gtd_new;
    }
  }
  return {bracket_f[low], bracket_g[low], bracket[low], evaluations};
}

template class strong_wolfe<float>;
template class strong_wolfe<double>;

}  // namespace kiln::second_order
