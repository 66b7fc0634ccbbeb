// Losses end a model. Their input is the network's output; they produce no shape.
#pragma once

#include "kiln/dsl/core.hpp"

namespace kiln::dsl {

// Softmax over the classes, then the mean negative log-likelihood of the labels
// (PyTorch's CrossEntropyLoss on logits).
struct softmax_cross_entropy {
  static constexpr std::string_view kind = "softmax_cross_entropy";
  static constexpr bool is_loss = true;
  constexpr shape out(shape in) const { return in; }
  constexpr const char* check(shape in) const {
    if (!in.flat()) return "softmax_cross_entropy: the logits are not flat; put flatten{} first";
    if (in.size() < 2) return "softmax_cross_entropy: needs at least 2 classes";
    return nullptr;
  }
};

// Mean squared error over every output of every sample (PyTorch's MSELoss, reduction='mean').
struct mse {
  static constexpr std::string_view kind = "mse";
  static constexpr bool is_loss = true;
  constexpr shape out(shape in) const { return in; }
  constexpr const char* check(shape in) const {
    return in.flat() ? nullptr : "mse: the outputs are not flat; put flatten{} first";
  }
};

}  // namespace kiln::dsl
