// rmsprop: gradients divided by a running root mean square, defined exactly as PyTorch 1.13's
// torch.optim.RMSprop:
//   g += weight_decay·p
//   v = alpha·v + (1 − alpha)·g²
//   centered: ḡ = alpha·ḡ + (1 − alpha)·g,  avg = √(v − ḡ²) + eps;  else avg = √v + eps
//   momentum > 0: b = momentum·b + g/avg,  p −= lr·b;  else p −= lr·g/avg
#pragma once

#include <array>
#include <string_view>

#include "kiln/dsl/optim/fields.hpp"

namespace kiln::dsl {

struct rmsprop {
  static constexpr std::string_view kind = "rmsprop";

  double lr = 0.01;
  double alpha = 0.99;
  double eps = 1e-8;
  double weight_decay = 0;
  double momentum = 0;
  bool centered = false;

  // State vectors in PyTorch's order of creation: square_avg, momentum_buffer, grad_avg.
  constexpr int states() const { return 1 + (momentum != 0) + centered; }
  constexpr int momentum_state() const { return 1; }
  constexpr int centered_state() const { return momentum != 0 ? 2 : 1; }
  constexpr std::string_view state_name(int i) const {
    return i == 0                              ? "square_avg"
           : i == centered_state() && centered ? "grad_avg"
                                               : "momentum_buffer";
  }
  constexpr double state_init(int) const { return 0; }

  friend constexpr bool operator==(const rmsprop&, const rmsprop&) = default;

  constexpr const char* check() const {
    if (!(lr >= 0)) return "rmsprop: .lr must be >= 0";
    if (!(alpha >= 0 && alpha <= 1)) return "rmsprop: .alpha must be in [0, 1]";
    if (!(eps >= 0)) return "rmsprop: .eps must be >= 0";
    if (!(weight_decay >= 0)) return "rmsprop: .weight_decay must be >= 0";
    if (!(momentum >= 0)) return "rmsprop: .momentum must be >= 0";
    return nullptr;
  }

  static constexpr auto fields() {
    return std::array<field<rmsprop>, 6>{{{"lr", &rmsprop::lr},
                                          {"alpha", &rmsprop::alpha},
                                          {"eps", &rmsprop::eps},
                                          {"weight_decay", &rmsprop::weight_decay},
                                          {"momentum", &rmsprop::momentum},
                                          {"centered", nullptr, &rmsprop::centered}}};
  }
};

}  // namespace kiln::dsl
