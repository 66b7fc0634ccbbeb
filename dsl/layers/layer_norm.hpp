// layer_norm: PyTorch's nn.LayerNorm over the whole of one sample (normalized_shape = the
// input's shape: {features}, or {c, h, w}). Each sample is normalized with its own mean and
// biased variance, x̂ = (x − mean)/√(var + eps), then scaled by γ (weight) and shifted by β
// (bias), both of the sample's shape (γ = 1, β = 0 at first; no weight decay, as for
// normalization scales). The same in training and evaluation: no running statistics.
#pragma once

#include <array>

#include "kiln/dsl/core.hpp"

namespace kiln::dsl {

struct layer_norm {
  static constexpr std::string_view kind = "layer_norm";
  static constexpr std::size_t n_params = 2;

  double eps = 1e-5;
  name_t name{};

  constexpr const char* check(shape in) const {
    if (!(eps > 0)) return "layer_norm: .eps must be positive";
    if (in.size() < 2) return "layer_norm: the input must hold at least 2 values per sample";
    return nullptr;
  }
  constexpr shape out(shape in) const { return in; }
  constexpr std::array<param, n_params> params(shape in) const {
    return {param{"weight", in, init::ones, 1, false}, param{"bias", in, init::zeros, 1, false}};
  }
};

}  // namespace kiln::dsl
