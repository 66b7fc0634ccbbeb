// adamax: Adam with the infinity norm (Kingma & Ba, section 7.1), defined exactly as PyTorch
// 1.13's torch.optim.Adamax (t is the 1-based step):
//   g += weight_decay·p
//   m = beta1·m + (1 − beta1)·g
//   u = max(beta2·u, |g| + eps)
//   p −= (lr / (1 − beta1ᵗ))·m / u
// PyTorch's `betas=(b1, b2)` are `.beta1`, `.beta2` here; its state names exp_avg and exp_inf.
#pragma once

#include <array>
#include <string_view>

#include "kiln/dsl/optim/fields.hpp"

namespace kiln::dsl {

struct adamax {
  static constexpr std::string_view kind = "adamax";

  double lr = 2e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 0;

  constexpr int states() const { return 2; }
  constexpr std::string_view state_name(int i) const { return i == 0 ? "exp_avg" : "exp_inf"; }
  constexpr double state_init(int) const { return 0; }

  friend constexpr bool operator==(const adamax&, const adamax&) = default;

  constexpr const char* check() const {
    if (!(lr >= 0)) return "adamax: .lr must be >= 0";
    if (!(beta1 >= 0 && beta1 < 1)) return "adamax: .beta1 must be in [0, 1)";
    if (!(beta2 >= 0 && beta2 < 1)) return "adamax: .beta2 must be in [0, 1)";
    if (!(eps >= 0)) return "adamax: .eps must be >= 0";
    if (!(weight_decay >= 0)) return "adamax: .weight_decay must be >= 0";
    return nullptr;
  }

  static constexpr auto fields() {
    return std::array<field<adamax>, 5>{{{"lr", &adamax::lr},
                                         {"beta1", &adamax::beta1},
                                         {"beta2", &adamax::beta2},
                                         {"eps", &adamax::eps},
                                         {"weight_decay", &adamax::weight_decay}}};
  }
};

}  // namespace kiln::dsl
