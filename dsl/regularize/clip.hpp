// Gradient clipping, applied to the loss gradient of every tensor before any other term, as
// PyTorch users call torch.nn.utils.clip_grad_*_ between backward() and step():
//   clip_value{c}: g = clamp(g, −c, c)                              (clip_grad_value_)
//   clip_norm{c}:  g ·= min(1, c / (‖all gradients‖₂ + 1e-6))        (clip_grad_norm_)
// clip_norm needs the norm of the whole gradient before any tensor is updated: a trainer whose
// plan has it runs one reduction pass over all gradients after the backward pass and then
// updates every tensor, instead of updating each layer as soon as its gradients are known.
#pragma once

#include <string_view>

#include "kiln/dsl/regularize/compose.hpp"

namespace kiln::dsl {

struct clip_value {
  static constexpr std::string_view kind = "clip_value";
  static constexpr phase when = phase::clip;
  double c = 1;
  constexpr const char* check() const { return c > 0 ? nullptr : "clip_value: c must be > 0"; }
};

struct clip_norm {
  static constexpr std::string_view kind = "clip_norm";
  static constexpr phase when = phase::clip;
  static constexpr bool global = true;  // needs every gradient first
  double c = 1;
  constexpr const char* check() const { return c > 0 ? nullptr : "clip_norm: c must be > 0"; }
};

}  // namespace kiln::dsl
