// adagrad: per-coordinate learning rates from the sum of squared gradients, defined exactly as
// PyTorch 1.13's torch.optim.Adagrad (t is the 1-based step):
//   g += weight_decay·p
//   clr = lr / (1 + (t − 1)·lr_decay)
//   sum += g²                     (sum starts at initial_accumulator_value)
//   p −= clr·g / (√sum + eps)
#pragma once

#include <array>
#include <string_view>

#include "kiln/dsl/optim/fields.hpp"

namespace kiln::dsl {

struct adagrad {
  static constexpr std::string_view kind = "adagrad";

  double lr = 0.01;
  double lr_decay = 0;
  double weight_decay = 0;
  double initial_accumulator_value = 0;
  double eps = 1e-10;

  constexpr int states() const { return 1; }
  constexpr std::string_view state_name(int) const { return "sum"; }
  constexpr double state_init(int) const { return initial_accumulator_value; }

  friend constexpr bool operator==(const adagrad&, const adagrad&) = default;

  constexpr const char* check() const {
    if (!(lr >= 0)) return "adagrad: .lr must be >= 0";
    if (!(lr_decay >= 0)) return "adagrad: .lr_decay must be >= 0";
    if (!(weight_decay >= 0)) return "adagrad: .weight_decay must be >= 0";
    if (!(initial_accumulator_value >= 0))
      return "adagrad: .initial_accumulator_value must be >= 0";
    if (!(eps >= 0)) return "adagrad: .eps must be >= 0";
    return nullptr;
  }

  static constexpr auto fields() {
    return std::array<field<adagrad>, 5>{
        {{"lr", &adagrad::lr},
         {"lr_decay", &adagrad::lr_decay},
         {"weight_decay", &adagrad::weight_decay},
         {"initial_accumulator_value", &adagrad::initial_accumulator_value},
         {"eps", &adagrad::eps}}};
  }
};

}  // namespace kiln::dsl
