// Pooling over the spatial axes of an image {c, h, w}, per channel: max_pool and avg_pool
// (PyTorch's MaxPool2d / AvgPool2d with count_include_pad=True, floor mode), global_avg_pool
// (AdaptiveAvgPool2d(1) followed by Flatten: the output is the flat {c}).
#pragma once

#include "kiln/dsl/core.hpp"
#include "kiln/dsl/layers/conv.hpp"

namespace kiln::dsl {

// What max_pool and avg_pool share: a size × size window moved by stride (0: size), with
// implicit padding. `problems` holds the layer's messages in the order checked here.
template <class P>
constexpr const char* pool_check(const P& p, shape in, const char* const (&problems)[5]) {
  if (p.size <= 0) return problems[0];
  if (p.stride < 0) return problems[1];
  if (p.pad < 0 || 2 * p.pad > p.size) return problems[2];
  if (in.rank != 3) return problems[3];
  if (in.d[1] + 2 * p.pad < p.size || in.d[2] + 2 * p.pad < p.size) return problems[4];
  return nullptr;
}

template <class P>
constexpr shape pool_out(const P& p, shape in) {
  return image(in.channels(), window_count(in.height(), p.size, p.step(), p.pad),
               window_count(in.width(), p.size, p.step(), p.pad));
}

struct max_pool {
  static constexpr std::string_view kind = "max_pool";
  int size = 2;
  int stride = 0;  // 0: size
  int pad = 0;     // padded cells never win

  constexpr int step() const { return stride > 0 ? stride : size; }
  constexpr shape out(shape in) const { return pool_out(*this, in); }
  constexpr const char* check(shape in) const {
    return pool_check(
        *this, in,
        {"max_pool: .size must be positive", "max_pool: .stride must be >= 0 (0: the window size)",
         "max_pool: .pad must be in [0, size / 2]",
         "max_pool: the input is not an image {channels, height, width}",
         "max_pool: the window is larger than the padded input"});
  }
};

struct avg_pool {
  static constexpr std::string_view kind = "avg_pool";
  int size = 2;
  int stride = 0;  // 0: size
  int pad = 0;     // padded cells count as zeros (count_include_pad=True)

  constexpr int step() const { return stride > 0 ? stride : size; }
  constexpr shape out(shape in) const { return pool_out(*this, in); }
  constexpr const char* check(shape in) const {
    return pool_check(
        *this, in,
        {"avg_pool: .size must be positive", "avg_pool: .stride must be >= 0 (0: the window size)",
         "avg_pool: .pad must be in [0, size / 2]",
         "avg_pool: the input is not an image {channels, height, width}",
         "avg_pool: the window is larger than the padded input"});
  }
};

struct global_avg_pool {
  static constexpr std::string_view kind = "global_avg_pool";
  constexpr shape out(shape in) const { return vec(in.channels()); }
  constexpr const char* check(shape in) const {
    return in.rank == 3 ? nullptr
                        : "global_avg_pool: the input is not an image {channels, height, width}";
  }
};

}  // namespace kiln::dsl
