// sgd: stochastic gradient descent with optional momentum, dampening, Nesterov and coupled
// weight decay, defined exactly as PyTorch 1.13's torch.optim.SGD:
//   g += weight_decay·p
//   buf = g (first step), then buf = momentum·buf + (1 − dampening)·g
//   g = g + momentum·buf (Nesterov) or g = buf
//   p −= lr·g
#pragma once

#include <array>
#include <string_view>

#include "kiln/dsl/optim/fields.hpp"

namespace kiln::dsl {

struct sgd {
  static constexpr std::string_view kind = "sgd";

  double lr = 0.01;  // PyTorch has no default; 0.01 is the common starting point
  double momentum = 0;
  double dampening = 0;
  bool nesterov = false;
  double weight_decay = 0;

  constexpr int states() const { return momentum != 0 ? 1 : 0; }
  constexpr std::string_view state_name(int) const { return "momentum_buffer"; }
  constexpr double state_init(int) const { return 0; }

  friend constexpr bool operator==(const sgd&, const sgd&) = default;

  constexpr const char* check() const {
    if (!(lr >= 0)) return "sgd: .lr must be >= 0";
    if (!(momentum >= 0)) return "sgd: .momentum must be >= 0";
    if (!(dampening >= 0 && dampening <= 1)) return "sgd: .dampening must be in [0, 1]";
    if (!(weight_decay >= 0)) return "sgd: .weight_decay must be >= 0";
    if (nesterov && (momentum <= 0 || dampening != 0))
      return "sgd: .nesterov needs .momentum > 0 and .dampening == 0";
    return nullptr;
  }

  static constexpr auto fields() {
    return std::array<field<sgd>, 5>{{{"lr", &sgd::lr},
                                      {"momentum", &sgd::momentum},
                                      {"dampening", &sgd::dampening},
                                      {"nesterov", nullptr, &sgd::nesterov},
                                      {"weight_decay", &sgd::weight_decay}}};
  }
};

}  // namespace kiln::dsl
