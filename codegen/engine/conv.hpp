// The compute engine's convolution: oneDNN's direct convolution primitives (forward, backward
// data, backward weights) for one layer's shape, created when a trainer is built and run every
// step with pointers only, like engine::matmul. oneDNN computes in its blocked layouts
// (nChw16c): each run reorders the NCHW activations and OIHW weights kiln keeps into the
// member's own buffers and back, which costs less than the im2col and col2im it replaces
// (measured on a Zen 5, one thread, the peer CNN's 16→32 layer at 14×14, 8 samples: 181
// GFLOP/s forward and backward, reorders included, against 201 for the convolution alone).
// A conv2d | relu | max_pool{2} layer's pooled runs keep the full output in oneDNN's layout: the
// bias, ReLU and pool (and backward the unpooling) run there, and only the pooled quarter is
// reordered.
//
// Samples go through primitives made for 8, 4, 2 and 1 of them: a run of n samples is cut
// greedily into those sizes, always the same way for the same n, so its results do not depend
// on timing or threads. A run is single-threaded inside the team member that calls it.
// This header does not include oneDNN (conv.cpp is compiled once, in kiln_engine).
#pragma once

#include <memory>
#include <string>

#include "kiln/codegen/engine/matmul.hpp"

namespace kiln::engine {

// One convolution layer: NCHW input c × h × w, f filters of k × k, the same stride and zero
// padding on both axes, output f × ho × wo; no bias (the layer adds it with its ReLU).
struct conv_shape {
  long c = 0, h = 0, w = 0;
  long f = 0, k = 0, stride = 1, pad = 0;
  long ho = 0, wo = 0;
  precision in = precision::f32;  // bf16: inputs, weights and dy rounded by the reorders
  bool dx = true;                 // backward data needed (not for the model's first layer)
  bool pool = false;              // forward_pooled / backward_pooled wanted (see there)
};

class convolution {
 public:
  static constexpr long most = 8;  // the largest primitive, in samples

  convolution() noexcept;
  // Throws kiln::error when oneDNN has no convolution for the shape.
  convolution(const conv_shape& s, int members);
  convolution(convolution&&) noexcept;
  convolution& operator=(convolution&&) noexcept;
  ~convolution();

  // y (n × f × ho × wo) = x (n × c × h × w) ⊛ w (f × c × k × k), on the calling thread as
  // team member `member`.
  void forward(int member, long n, const float* x, const float* w, float* y) const;
  // dw (f × c × k × k) = Σ over the n samples of dy ⊛ x (+= when `accumulate`), and dx
  // (n × c × h × w) = the input gradient when dx is not null (the shape must have been made
  // with dx).
  void backward(int member, long n, const float* x, const float* w, const float* dy, float* dx,
                float* dw, bool accumulate) const;
  // Reorders w into each layout the primitives read the weights in, once, on the calling thread
  // (team member 0, while the others wait): the runs given this same pointer read those copies
  // instead of reordering w in every run. Call it again whenever w's values change (a layer
  // does, before its forward and its backward).
  void set_weights(const float* w) const;
  // A conv2d | relu | max_pool{2} layer (made with .pool): whether oneDNN's output layout is
  // blocked by channels (nChw16c, nChw8c, nChw4c), so that the bias, the ReLU and the pool run
  // on the convolution's output in that layout and only the pooled quarter is reordered to and
  // from NCHW. Otherwise the caller pools in NCHW (forward, backward).
  bool pooled() const noexcept;
  // The floats of `which` one sample takes in the pooled runs: its window positions in the
  // blocked layout, channels padded to 16.
  static constexpr long pooled_codes(long f, long ho, long wo) {
    return (f + 15) / 16 * 16 * (ho / 2) * (wo / 2);
  }
  // y (n × f × ho/2 × wo/2, NCHW) = 2×2 max pool of max(x ⊛ w + bias, 0); `which` (n ×
  // pooled_codes floats) records each window's max for backward_pooled.
  void forward_pooled(int member, long n, const float* x, const float* w, const float* bias,
                      float* y, float* which) const;
  // backward() from the pooled output's gradient dy (NCHW, already through the ReLU's mask: 0
  // where y = 0), unpooled to each window's max (`which`, as forward_pooled left it).
  void backward_pooled(int member, long n, const float* x, const float* w, const float* dy,
                       const float* which, float* dx, float* dw, bool accumulate) const;
  explicit operator bool() const noexcept { return bool(impl_); }
  // oneDNN's names for the forward, backward-data and backward-weights implementations.
  std::string implementation() const;

  struct impl;  // conv.cpp's (opaque here)

 private:
  std::unique_ptr<impl> impl_;
};

}  // namespace kiln::engine
