// Transfer learning in a generated trainer: which layers are frozen (no update, no regularizer,
// no backward pass before the first layer that trains) and each layer's learning-rate
// multiplier, set by name through layer_options and changeable between epochs.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <string>

#include "kiln/codegen/trainer/options.hpp"
#include "kiln/core/error.hpp"

namespace kiln::codegen {

template <class T>  // trainer_traits<Model, Plan>
class layer_settings {
  using lay = typename T::lay;
  static constexpr std::size_t L = T::L;

 public:
  layer_settings() { std::fill(lr_mult_, lr_mult_ + L, 1.0); }

  // Applies `l` to layers [first, last] (indices the trainer found by name).
  void apply(const layer_options& l, std::size_t first, std::size_t last) {
    if (last < first) throw config_error("layers", "'" + l.to + "' comes before '" + l.from + "'");
    if (!(l.lr_mult >= 0) || !std::isfinite(l.lr_mult))
      throw config_error("lr_mult", "must be finite and >= 0, got " + std::to_string(l.lr_mult));
    if (T::full_batch && l.lr_mult != 1)
      throw config_error("lr_mult", "full-batch plans (lbfgs, newton_cg) have no per-layer rates");
    for (std::size_t i = first; i <= last; ++i) frozen_[i] = l.frozen, lr_mult_[i] = l.lr_mult;
    plan_backward();
  }

  bool frozen(std::size_t layer) const { return frozen_[layer]; }
  const bool* frozen() const { return frozen_; }
  double lr_mult(std::size_t layer) const { return lr_mult_[layer]; }
  // The first layer whose backward must run: the first one with parameters not frozen (L: none).
  std::size_t backward_from() const { return backward_from_; }

  void plan_backward() {
    backward_from_ = L;
    for (std::size_t i = L - 2; i >= 1; --i)
      if (lay::rows[i].tensors > 0 && !frozen_[i]) backward_from_ = i;
  }

 private:
  bool frozen_[L]{};
  double lr_mult_[L]{};
  std::size_t backward_from_ = 1;
};

}  // namespace kiln::codegen
