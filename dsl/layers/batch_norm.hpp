// batch_norm: PyTorch's BatchNorm1d (flat input {features}) and BatchNorm2d (image {c, h, w}).
// Training: each feature or channel is normalized with the batch's mean and biased variance
// (over the batch, and over h·w for images), then scaled by γ (weight) and shifted by β (bias);
// the running statistics move by `momentum` towards the batch's mean and *unbiased* variance,
// and num_batches_tracked counts the steps. Evaluation: the running statistics normalize.
#pragma once

#include <array>

#include "kiln/dsl/core.hpp"

namespace kiln::dsl {

struct batch_norm {
  static constexpr std::string_view kind = "batch_norm";
  static constexpr std::size_t n_params = 2;
  static constexpr std::size_t n_buffers = 3;

  double momentum = 0.1;
  double eps = 1e-5;
  name_t name{};

  constexpr const char* check(shape in) const {
    if (!(momentum >= 0 && momentum <= 1)) return "batch_norm: .momentum must be in [0, 1]";
    if (!(eps > 0)) return "batch_norm: .eps must be positive";
    if (in.rank != 1 && in.rank != 3)
      return "batch_norm: the input must be flat {features} or an image {channels, h, w}";
    return nullptr;
  }
  constexpr shape out(shape in) const { return in; }
  constexpr std::array<param, n_params> params(shape in) const {
    return {param{"weight", vec(in.channels()), init::ones, 1, false},
            param{"bias", vec(in.channels()), init::zeros, 1, false}};
  }
  // num_batches_tracked is an int64 0-d tensor in PyTorch; kiln keeps it as a float (exact up to
  // 2^24 steps).
  constexpr std::array<param, n_buffers> buffers(shape in) const {
    return {param{"running_mean", vec(in.channels()), init::zeros},
            param{"running_var", vec(in.channels()), init::ones},
            param{"num_batches_tracked", shape{}, init::zeros}};
  }
};

}  // namespace kiln::dsl
