// A generated trainer's memory: one allocation at construction, sized from compile-time
// per-sample constants and the batch size, so that a training step allocates nothing. It holds
// the parameters, their gradients, the optimizer's state vectors and step counts, the buffers
// (running statistics), the moving average of the weights, and every layer's output and scratch.
// The template states the sizes (arena_shape, from the layout); arena_base carves and fills the
// memory, compiled once (arena.cpp).
#pragma once

#include <hwy/aligned_allocator.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "kiln/codegen/layers/op.hpp"
#include "kiln/codegen/rows.hpp"
#include "kiln/core/error.hpp"
#include "kiln/core/rng.hpp"

namespace kiln::codegen {

// What an arena holds, as numbers.
struct arena_shape {
  std::size_t params = 0;         // floats of the parameter arena (aligned tensors)
  std::size_t tensor_count = 0;   // parameter tensors
  std::size_t buffer_floats = 0;  // floats of the buffer arena
  std::size_t work = 0;           // the layers' fixed scratch, all together
  std::size_t widest = 0;         // widest per-sample activation: each gradient buffer's
  int states = 0;                 // optimizer state vectors
  bool averaged = false;          // a moving average of the weights
  bool skips = false;             // skip_step: a copy of the buffers as a step found them
  bool half = false;              // bf16 products: the weights rounded to bf16
  std::size_t flip_in = 0;        // test_time{.hflip}: one sample's input floats (0: no flips)
  std::size_t flip_out = 0;       // and its logits
  std::span<const layer_row> rows;
};

struct arena_base {
  static constexpr int max_states = 4;

  hwy::AlignedFreeUniquePtr<float[]> memory;
  float* p = nullptr;           // parameters
  float* g = nullptr;           // their gradients
  float* sum = nullptr;         // the gradient of several batches, summed before it goes to g
  float* s[max_states]{};       // optimizer state vectors, each laid out like p
  float* step = nullptr;        // optimizer steps taken by each tensor (bias correction)
  float* b = nullptr;           // buffers (running statistics)
  float* kept_b = nullptr;      // skip_step: the buffers as the step found them
  float* ema = nullptr;         // moving average of p (Polyak averaging), laid out like it
  float* grad[2]{};             // ping-pong buffers for the gradients flowing backward
  std::uint16_t* wh = nullptr;  // bf16 plans: the weights rounded to bf16, laid out like p
  float* mirror = nullptr;      // test_time{.hflip}: the batch mirrored, the logits of the batch
  float* first = nullptr;       // as it is, and their mean with the mirrored batch's
  float* mean = nullptr;

 protected:
  // Everything for steps of up to `batch` samples, zeroed; each layer's scratch and output
  // pointers into work, aux and act (act[i] nullptr for a view).
  void allocate(const arena_shape& a, int batch, float** work, float** aux, float** act);
  // Fresh weights from the seed (PyTorch's default initialization), the optimizer's initial
  // state (state_init[k] everywhere), zero step counts, the buffers' initial values; the average
  // starts at the weights.
  void reset(const arena_shape& a, std::span<const tensor_row> tensors,
             std::span<const tensor_row> buffers, std::span<const double> state_init,
             std::uint64_t seed);
};

template <class T>  // trainer_traits<Model, Plan>
struct arena : arena_base {
  using lay = typename T::lay;
  static constexpr std::size_t L = T::L;
  static constexpr int S = T::S;
  static_assert(S <= max_states);

  float* work[L]{};  // each layer's fixed scratch
  float* act[L]{};   // each non-view layer's output
  float* aux[L]{};   // each layer's scratch
  float* out[L]{};   // this step's output of each layer (a view's is its input's)

  void allocate(int batch) { arena_base::allocate(shape, batch, work, aux, act); }
  void reset(std::uint64_t seed) {
    arena_base::reset(shape, lay::tensors, lay::buffers, state_init, seed);
  }

 private:
  static constexpr arena_shape shape{lay::params,
                                     lay::tensor_count,
                                     lay::buffer_floats,
                                     lay::work,
                                     std::size_t(lay::widest),
                                     S,
                                     T::averaged,
                                     T::skips,
                                     T::half,
                                     T::flips ? std::size_t(lay::in[0].size()) : 0,
                                     T::flips ? std::size_t(lay::in[L - 1].size()) : 0,
                                     lay::rows};
  static constexpr std::array<double, S> state_init = [] {
    std::array<double, S> r{};
    if constexpr (S > 0)
      for (int k = 0; k < S; ++k) r[std::size_t(k)] = T::opt.state_init(k);
    return r;
  }();
};

}  // namespace kiln::codegen
