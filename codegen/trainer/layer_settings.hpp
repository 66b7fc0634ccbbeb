// Transfer learning in a generated trainer: which layers are frozen (no update, no regularizer,
// no backward pass before the first layer that trains) and each layer's learning-rate
// multiplier, set by name through layer_options and changeable between epochs.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <string>

#include "kiln/codegen/trainer/errors.hpp"
#include "kiln/codegen/trainer/options.hpp"

namespace kiln::codegen {

template <class T>  // trainer_traits<Model, Plan>
class layer_settings {
  using lay = typename T::lay;
  static constexpr std::size_t L = T::L;

 public:
  layer_settings() { std::fill(lr_mult_, lr_mult_ + L, 1.0); }

  // Applies `l` to layers [first, last] (indices the trainer found by name).
  void apply(const layer_options& l, std::size_t first, std::size_t last) {
    require_layer_options(l, first, last, T::full_batch);
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
