// Losses end a model. Their input is the network's output; they produce no shape.
#pragma once

#include "kiln/dsl/core.hpp"

namespace kiln::dsl {

// Softmax over the classes, then the mean negative log-likelihood of the labels
// (PyTorch's CrossEntropyLoss on logits). `label_smoothing` ε trains against the target
// (1 − ε)·onehot + ε/K instead of the one-hot label (Szegedy et al.; PyTorch's
// CrossEntropyLoss(label_smoothing = ε)): the loss per sample is
// (1 − ε)·(−log p_label) + ε·mean_k(−log p_k), in training and in the reported test loss as
// PyTorch's criterion reports it. The network and its logits do not change: predictions,
// accuracy and an exported graph are the same as without it.
struct softmax_cross_entropy {
  static constexpr std::string_view kind = "softmax_cross_entropy";
  static constexpr bool is_loss = true;
  double label_smoothing = 0;
  constexpr shape out(shape in) const { return in; }
  constexpr const char* check(shape in) const {
    if (!in.flat()) return "softmax_cross_entropy: the logits are not flat; put flatten{} first";
    if (in.size() < 2) return "softmax_cross_entropy: needs at least 2 classes";
    if (!(label_smoothing >= 0 && label_smoothing <= 1))
      return "softmax_cross_entropy: .label_smoothing must be in [0, 1]";
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
