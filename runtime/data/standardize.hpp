// Per-feature standardization, x' = (x − mean) / std with the training set's statistics. They
// travel with the weights (two tensors in model.safetensors and in an exported ONNX graph), so
// that predict and the exported graph apply exactly what training applied.
#pragma once

#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "kiln/runtime/data/dataset.hpp"
#include "kiln/runtime/io/tensor_file.hpp"

namespace kiln::rt {

struct standardization {
  // The tensors' names in a weights file (shape: the model's input shape).
  static constexpr const char* mean_name = "kiln.standardize.mean";
  static constexpr const char* std_name = "kiln.standardize.std";

  std::vector<int> shape;           // one sample's shape
  std::vector<float> mean, stddev;  // per feature; std is 1 for a constant feature (only centred)

  bool empty() const noexcept { return mean.empty(); }

  // The statistics of `train` (per feature, over its samples, in double: population standard
  // deviation, as numpy's x.std(axis=0)). A feature whose values are all equal gets std 1.
  static standardization of(const dataset& train);
  // x' = (x − mean) / std, in float, feature by feature: what the exported graph computes.
  // kiln::config_error when the sample size differs from the statistics'.
  void apply(dataset& d) const;
  void apply(std::span<float> x) const;  // whole samples

  // As tensors to write beside the weights; views of this object.
  std::vector<tensor_ref> tensors() const;
  // Takes the statistics out of a weights file (and checks them: same shape, finite, std > 0);
  // empty when the file has none.
  static standardization take(tensor_file& file);
};

}  // namespace kiln::rt
