// adamw: Adam with decoupled weight decay (Loshchilov & Hutter), defined exactly as PyTorch
// 1.13's torch.optim.AdamW: first p ·= 1 − lr·weight_decay, then Adam's step without an L2 term
// (see adam.hpp). The default weight decay is 1e-2, as in PyTorch.
#pragma once

#include <string_view>

#include "kiln/dsl/optim/adam.hpp"

namespace kiln::dsl {

struct adamw {
  static constexpr std::string_view kind = "adamw";

  double lr = 1e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 1e-2;
  bool amsgrad = false;

  constexpr int states() const { return amsgrad ? 3 : 2; }
  constexpr std::string_view state_name(int i) const { return adam_family::state_name(i); }
  constexpr double state_init(int) const { return 0; }

  friend constexpr bool operator==(const adamw&, const adamw&) = default;

  constexpr const char* check() const {
    return adam_family::check(*this, {"adamw: .lr must be >= 0", "adamw: .beta1 must be in [0, 1)",
                                      "adamw: .beta2 must be in [0, 1)", "adamw: .eps must be >= 0",
                                      "adamw: .weight_decay must be >= 0"});
  }
  static constexpr auto fields() { return adam_family::fields<adamw>(); }
};

}  // namespace kiln::dsl
