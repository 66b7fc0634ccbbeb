// A named view of floats: how the runtime sees a model's parameters and optimizer state.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <vector>

namespace kiln::rt {

enum class tensor_role {
  param,  // learnable weights ("fc1.weight")
  state,  // optimizer state ("fc1.weight.momentum_buffer")
  buffer  // non-learned model state (batch-norm running statistics, ...)
};

struct tensor {
  std::string name;
  std::vector<int> shape;  // PyTorch layout: Linear [out, in], Conv2d [out, in, kh, kw]
  std::span<float> data;   // product(shape) floats owned by the model
  tensor_role role = tensor_role::param;
  // The name PyTorch gives this tensor in an nn.Sequential of the same layers ("3.weight"): the
  // layer's position instead of its DSL name. Empty when the model has no such convention.
  std::string sequential_name;

  std::size_t size() const noexcept { return data.size(); }
};

}  // namespace kiln::rt
