// adam: Adam with bias correction, coupled weight decay (an L2 term in the gradient) and the
// AMSGrad variant, defined exactly as PyTorch 1.13's torch.optim.Adam (t is the 1-based step):
//   g += weight_decay·p
//   m = beta1·m + (1 − beta1)·g
//   v = beta2·v + (1 − beta2)·g²
//   v̂ = max(v̂, v) (amsgrad) or v
//   p −= (lr / (1 − beta1ᵗ))·m / (√v̂ / √(1 − beta2ᵗ) + eps)
// PyTorch's `betas=(b1, b2)` are `.beta1`, `.beta2` here.
#pragma once

#include <array>
#include <string_view>

#include "kiln/dsl/optim/fields.hpp"

namespace kiln::dsl {

// What adam and adamw share (their fields are the same; designated initializers cannot reach a
// base class, so each declares them and uses these).
namespace adam_family {

constexpr std::string_view state_name(int i) {
  return i == 0 ? "exp_avg" : i == 1 ? "exp_avg_sq" : "max_exp_avg_sq";
}

template <class O>
constexpr const char* check(const O& o, const char* const (&problem)[5]) {
  if (!(o.lr >= 0)) return problem[0];
  if (!(o.beta1 >= 0 && o.beta1 < 1)) return problem[1];
  if (!(o.beta2 >= 0 && o.beta2 < 1)) return problem[2];
  if (!(o.eps >= 0)) return problem[3];
  if (!(o.weight_decay >= 0)) return problem[4];
  return nullptr;
}

template <class O>
constexpr auto fields() {
  return std::array<field<O>, 6>{{{"lr", &O::lr},
                                  {"beta1", &O::beta1},
                                  {"beta2", &O::beta2},
                                  {"eps", &O::eps},
                                  {"weight_decay", &O::weight_decay},
                                  {"amsgrad", nullptr, &O::amsgrad}}};
}

}  // namespace adam_family

struct adam {
  static constexpr std::string_view kind = "adam";

  double lr = 1e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 0;
  bool amsgrad = false;

  constexpr int states() const { return amsgrad ? 3 : 2; }
  constexpr std::string_view state_name(int i) const { return adam_family::state_name(i); }
  constexpr double state_init(int) const { return 0; }

  friend constexpr bool operator==(const adam&, const adam&) = default;

  constexpr const char* check() const {
    return adam_family::check(*this, {"adam: .lr must be >= 0", "adam: .beta1 must be in [0, 1)",
                                      "adam: .beta2 must be in [0, 1)", "adam: .eps must be >= 0",
                                      "adam: .weight_decay must be >= 0"});
  }
  static constexpr auto fields() { return adam_family::fields<adam>(); }
};

}  // namespace kiln::dsl
