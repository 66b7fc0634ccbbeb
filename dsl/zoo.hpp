// The architectures of the model zoo (runtime/zoo/zoo.hpp), as DSL declarations: a model built
// from one of these takes the zoo's weights by name (kiln::zoo::pretrained, kiln/zoo.hpp).
#pragma once

#include "kiln/dsl/layers/activation.hpp"
#include "kiln/dsl/layers/dense.hpp"
#include "kiln/dsl/layers/flatten.hpp"
#include "kiln/dsl/layers/loss.hpp"

namespace kiln::zoo {

// "fmnist_mlp": samples/fmnist_mlp.hpp's model.
inline constexpr auto fmnist_mlp =
    dsl::input<1, 28, 28> | dsl::flatten{} | dsl::dense{.units = 256, .name = "fc1"} | dsl::relu{} |
    dsl::dense{.units = 128, .name = "fc2"} | dsl::relu{} |
    dsl::dense{.units = 10, .name = "head"} | dsl::softmax_cross_entropy{};

}  // namespace kiln::zoo
