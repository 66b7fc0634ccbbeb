// A generated trainer's memory: one allocation at construction, sized from compile-time
// per-sample constants and the batch size, so that a training step allocates nothing. It holds
// the parameters, their gradients, the optimizer's state vectors and step counts, the buffers
// (running statistics), the moving average of the weights, and every layer's output and scratch.
#pragma once

#include <hwy/aligned_allocator.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>

#include "kiln/codegen/layers/op.hpp"
#include "kiln/core/error.hpp"
#include "kiln/core/rng.hpp"

namespace kiln::codegen {

template <class T>  // trainer_traits<Model, Plan>
struct arena {
  using lay = typename T::lay;
  static constexpr std::size_t L = T::L;
  static constexpr int S = T::S;

  hwy::AlignedFreeUniquePtr<float[]> memory;
  float* p = nullptr;           // parameters
  float* g = nullptr;           // their gradients
  float* sum = nullptr;         // the gradient of several batches, summed before it goes to g
  float* s[S > 0 ? S : 1]{};    // optimizer state vectors, each laid out like p
  float* step = nullptr;        // optimizer steps taken by each tensor (bias correction)
  float* b = nullptr;           // buffers (running statistics)
  float* kept_b = nullptr;      // skip_step: the buffers as the step found them
  float* work[L]{};             // each layer's fixed scratch
  float* ema = nullptr;         // moving average of p (Polyak averaging), laid out like it
  float* act[L]{};              // each non-view layer's output
  float* aux[L]{};              // each layer's scratch
  float* out[L]{};              // this step's output of each layer (a view's is its input's)
  float* grad[2]{};             // ping-pong buffers for the gradients flowing backward
  std::uint16_t* wh = nullptr;  // bf16 plans: the weights rounded to bf16, laid out like p
  float* mirror = nullptr;      // test_time{.hflip}: the batch mirrored, the logits of the batch
  float* first = nullptr;       // as it is, and their mean with the mirrored batch's
  float* mean = nullptr;

  // Everything for steps of up to `batch` samples, zeroed.
  void allocate(int batch) {
    const auto B = std::size_t(batch);
    std::size_t total = (3 + S + T::averaged) * lay::params + aligned(lay::tensor_count) +
                        (1 + T::skips) * lay::buffer_floats + lay::work +
                        2 * aligned(B * lay::widest);
    for (std::size_t i = 0; i < L; ++i)
      total +=
          aligned(B * lay::rows[i].aux) + (lay::rows[i].view ? 0 : aligned(B * lay::rows[i].out));
    if constexpr (T::flips)
      total += aligned(B * lay::in[0].size()) + 2 * aligned(B * lay::in[L - 1].size());
    if constexpr (T::half) total += aligned(lay::params / 2 + 1);  // the bf16 weights
    memory = hwy::AllocateAligned<float>(total);
    if (!memory) throw error("kiln: cannot allocate " + std::to_string(total * 4) + " bytes");
    std::fill(memory.get(), memory.get() + total, 0.0f);
    float* at = memory.get();
    auto take = [&](std::size_t n) { return std::exchange(at, at + n); };
    p = take(lay::params);
    g = take(lay::params);
    sum = take(lay::params);
    for (int k = 0; k < S; ++k) s[k] = take(lay::params);
    step = take(aligned(lay::tensor_count));
    b = take(lay::buffer_floats);
    if constexpr (T::skips) kept_b = take(lay::buffer_floats);
    if constexpr (T::averaged) ema = take(lay::params);
    for (auto& d : grad) d = take(aligned(B * lay::widest));
    if constexpr (T::flips) {
      mirror = take(aligned(B * lay::in[0].size()));
      first = take(aligned(B * lay::in[L - 1].size()));
      mean = take(aligned(B * lay::in[L - 1].size()));
    }
    if constexpr (T::half)
      wh = reinterpret_cast<std::uint16_t*>(take(aligned(lay::params / 2 + 1)));
    for (std::size_t i = 0; i < L; ++i) {
      work[i] = take(lay::rows[i].work);
      aux[i] = take(aligned(B * lay::rows[i].aux));
      act[i] = lay::rows[i].view ? nullptr : take(aligned(B * lay::rows[i].out));
    }
  }

  // Fresh weights from the seed (PyTorch's default initialization), the optimizer's initial
  // state, zero step counts, the buffers' initial values; the average starts at the weights.
  void reset(std::uint64_t seed) {
    rt::rng init(seed, rt::streams::init);
    std::fill(p, p + lay::params, 0.0f);
    for (const auto& t : lay::tensors) {
      float* w = p + t.offset;
      const auto n = std::size_t(t.spec.dims.size());
      switch (t.spec.start) {
        case dsl::init::zeros:
          std::fill(w, w + n, 0.0f);
          break;
        case dsl::init::ones:
          std::fill(w, w + n, 1.0f);
          break;
        case dsl::init::fan_in_uniform: {
          const float bound = 1.0f / std::sqrt(float(t.spec.fan_in));
          for (std::size_t i = 0; i < n; ++i) w[i] = init.uniform(-bound, bound);
        }
      }
    }
    if constexpr (S > 0)
      for (int k = 0; k < S; ++k) std::fill(s[k], s[k] + lay::params, float(T::opt.state_init(k)));
    std::fill(step, step + lay::tensor_count, 0.0f);
    if constexpr (T::averaged) std::copy(p, p + lay::params, ema);
    std::fill(b, b + lay::buffer_floats, 0.0f);
    for (const auto& t : lay::buffers)
      if (t.spec.start == dsl::init::ones)
        std::fill(b + t.offset, b + t.offset + std::size_t(t.spec.dims.size()), 1.0f);
  }
};

}  // namespace kiln::codegen
