// conv2d: 2-D convolution of an image {c, h, w} with `filters` square kernels, PyTorch's Conv2d
// (cross-correlation, zero padding, weight [filters, c, kernel, kernel], bias [filters]).
#pragma once

#include <array>

#include "kiln/dsl/core.hpp"

namespace kiln::dsl {

// Output length of a sliding window along one axis; 0 when the window does not fit (never a
// division by zero, so the shapes of the layers after an invalid one stay computable).
constexpr int window_count(int length, int window, int stride, int pad) {
  const int span = length + 2 * pad - window;
  return window > 0 && stride > 0 && span >= 0 ? span / stride + 1 : 0;
}

struct conv2d {
  static constexpr std::string_view kind = "conv2d";
  static constexpr std::size_t n_params = 2;

  int filters = 0;
  int kernel = 3;
  int stride = 1;
  int pad = 0;
  name_t name{};

  constexpr const char* check(shape in) const {
    if (filters <= 0) return "conv2d: .filters must be positive";
    if (kernel <= 0) return "conv2d: .kernel must be positive";
    if (stride <= 0) return "conv2d: .stride must be positive";
    if (pad < 0) return "conv2d: .pad must be >= 0";
    if (in.rank != 3) return "conv2d: the input is not an image {channels, height, width}";
    if (pad >= kernel) return "conv2d: .pad must be smaller than .kernel";
    if (in.d[1] + 2 * pad < kernel || in.d[2] + 2 * pad < kernel)
      return "conv2d: the kernel is larger than the padded input";
    return nullptr;
  }
  constexpr shape out(shape in) const {
    return image(filters, window_count(in.height(), kernel, stride, pad),
                 window_count(in.width(), kernel, stride, pad));
  }
  constexpr std::array<param, n_params> params(shape in) const {
    const int fan_in = in.channels() * kernel * kernel;
    return {param{"weight",
                  {4, {filters, in.channels(), kernel, kernel}},
                  init::fan_in_uniform,
                  fan_in,
                  true},
            param{"bias", vec(filters), init::fan_in_uniform, fan_in, false}};
  }
};

}  // namespace kiln::dsl
