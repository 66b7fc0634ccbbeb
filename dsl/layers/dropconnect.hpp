// dropconnect: a dense layer whose weights are dropped at random in training (Wan et al. 2013).
// Training: one mask per batch zeroes each weight with probability p and scales the survivors by
// 1 / (1 − p) (inverted, like dropout); the bias is not masked. Evaluation: the weights as stored,
// which are the expected masked weights — the paper's "mean approximation" (its Gaussian moment
// matching at inference is not done). The tensors are a Linear's: weight [units, inputs], bias.
#pragma once

#include <array>

#include "kiln/dsl/core.hpp"
#include "kiln/dsl/layers/dense.hpp"

namespace kiln::dsl {

struct dropconnect {
  static constexpr std::string_view kind = "dropconnect";
  static constexpr bool draws_at_random = true;  // in training (dsl::random_layer)
  static constexpr std::size_t n_params = 2;

  int units = 0;
  double p = 0.5;
  name_t name{};

  constexpr const char* check(shape in) const {
    if (units <= 0) return "dropconnect: .units must be positive";
    if (!(p >= 0 && p < 1)) return "dropconnect: .p must be in [0, 1)";
    if (!in.flat()) return "dropconnect: the input is not flat; put flatten{} before this layer";
    return nullptr;
  }
  constexpr shape out(shape) const { return vec(units); }
  constexpr std::array<param, n_params> params(shape in) const {
    return dense{units, name}.params(in);
  }
};

}  // namespace kiln::dsl
