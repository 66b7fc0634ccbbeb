// nadam: Adam with Nesterov momentum (Dozat, 2016), defined exactly as PyTorch 1.13's
// torch.optim.NAdam (t is the 1-based step, ψ the momentum decay):
//   g += weight_decay·p
//   μₜ = beta1·(1 − ½·0.96^(t·ψ)),   μₜ₊₁ = beta1·(1 − ½·0.96^((t+1)·ψ))
//   Πₜ = Πₜ₋₁·μₜ (Π₀ = 1),           Π' = Πₜ·μₜ·μₜ₊₁
//   m = beta1·m + (1 − beta1)·g,     v = beta2·v + (1 − beta2)·g²
//   d = √(v / (1 − beta2ᵗ)) + eps
//   p −= lr·(1 − μₜ)/(1 − Πₜ)·g / d,  then  p −= lr·μₜ₊₁/(1 − Π')·m / d
// As in PyTorch 1.13, the products Π are kept in float32 (its mu_product is a float32 tensor
// whatever the parameters' type) and Π' multiplies μₜ in twice (1.13's formula, changed in
// later versions). Π is a function of t alone: kiln recomputes it from the step count instead
// of keeping it as state.
#pragma once

#include <array>
#include <string_view>

#include "kiln/dsl/optim/fields.hpp"

namespace kiln::dsl {

struct nadam {
  static constexpr std::string_view kind = "nadam";

  double lr = 2e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 0;
  double momentum_decay = 4e-3;

  constexpr int states() const { return 2; }
  constexpr std::string_view state_name(int i) const { return i == 0 ? "exp_avg" : "exp_avg_sq"; }
  constexpr double state_init(int) const { return 0; }

  friend constexpr bool operator==(const nadam&, const nadam&) = default;

  constexpr const char* check() const {
    if (!(lr >= 0)) return "nadam: .lr must be >= 0";
    if (!(beta1 >= 0 && beta1 < 1)) return "nadam: .beta1 must be in [0, 1)";
    if (!(beta2 >= 0 && beta2 < 1)) return "nadam: .beta2 must be in [0, 1)";
    if (!(eps >= 0)) return "nadam: .eps must be >= 0";
    if (!(weight_decay >= 0)) return "nadam: .weight_decay must be >= 0";
    if (!(momentum_decay >= 0)) return "nadam: .momentum_decay must be >= 0";
    return nullptr;
  }

  static constexpr auto fields() {
    return std::array<field<nadam>, 6>{{{"lr", &nadam::lr},
                                        {"beta1", &nadam::beta1},
                                        {"beta2", &nadam::beta2},
                                        {"eps", &nadam::eps},
                                        {"weight_decay", &nadam::weight_decay},
                                        {"momentum_decay", &nadam::momentum_decay}}};
  }
};

}  // namespace kiln::dsl
