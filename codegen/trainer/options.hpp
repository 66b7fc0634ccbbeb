// Run-time choices of a generated trainer that do not change the generated code: the batch it
// is built for, the seed, the threads, data-parallel overlap, and per-layer settings for
// transfer learning (frozen layers, learning-rate multipliers).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace kiln {

// Transfer learning, per layer or inclusive range of layers (names as in tensors(): the DSL's
// .name or the position, "0" being the first layer after the input).
struct layer_options {
  std::string from;     // the first layer
  std::string to;       // the last one; empty: `from` alone
  bool frozen = false;  // its parameters never change (no update, no regularizer)
  double lr_mult = 1;   // its learning rate is the plan's (scheduled) one times this
};

// Run-time choices that do not change the generated code.
struct trainer_options {
  int batch = 0;                      // largest batch a step takes; 0: the plan's
  std::uint64_t seed = 0;             // weight init and dropout; used when seed_set
  bool seed_set = false;              // false: the plan's seed
  int threads = 1;                    // threads a step's kernels are split across
  std::vector<layer_options> layers;  // frozen layers, learning-rate multipliers
  // Data-parallel training: each layer's gradients start their sum over the ranks as soon as its
  // backward pass is done (MPI_Iallreduce), overlapping the backward pass of the layers before
  // it, instead of one sum of the whole arena after it (README, "Data-parallel training").
  bool overlap = false;
  // The Highway target of every tensor's fused update, by name ("AVX2", "AVX3_DL", ...); empty:
  // chosen per tensor from the CPU and the tensor's size (docs/trainer.md, "Update loops").
  std::string update_target;
};

}  // namespace kiln
