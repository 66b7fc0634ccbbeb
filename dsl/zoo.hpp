// The architectures of the model zoo (runtime/zoo/zoo.hpp), as DSL declarations: a model built
// from one of these takes the zoo's weights by name (kiln::zoo::pretrained, kiln/zoo.hpp).
#pragma once

#include "kiln/dsl/layers/activation.hpp"
#include "kiln/dsl/layers/batch_norm.hpp"
#include "kiln/dsl/layers/conv.hpp"
#include "kiln/dsl/layers/dense.hpp"
#include "kiln/dsl/layers/dropout.hpp"
#include "kiln/dsl/layers/flatten.hpp"
#include "kiln/dsl/layers/loss.hpp"
#include "kiln/dsl/layers/pool.hpp"

namespace kiln::zoo {

// "fmnist_mlp": samples/fmnist_mlp.hpp's model.
inline constexpr auto fmnist_mlp =
    dsl::input<1, 28, 28> | dsl::flatten{} | dsl::dense{.units = 256, .name = "fc1"} | dsl::relu{} |
    dsl::dense{.units = 128, .name = "fc2"} | dsl::relu{} |
    dsl::dense{.units = 10, .name = "head"} | dsl::softmax_cross_entropy{};

// "fmnist_cnn": samples/fmnist_cnn.hpp's model before its residual recipe (two conv blocks with
// batch norm and max pooling, dense 256 with batch norm and dropout).
inline constexpr auto fmnist_cnn =
    dsl::input<1, 28, 28> | dsl::conv2d{.filters = 32, .kernel = 3, .pad = 1, .name = "conv1"} |
    dsl::batch_norm{.name = "bn1"} | dsl::relu{} | dsl::max_pool{.size = 2} |
    dsl::conv2d{.filters = 64, .kernel = 3, .pad = 1, .name = "conv2"} |
    dsl::batch_norm{.name = "bn2"} | dsl::relu{} | dsl::max_pool{.size = 2} | dsl::flatten{} |
    dsl::dense{.units = 256, .name = "fc1"} | dsl::batch_norm{.name = "bn3"} | dsl::relu{} |
    dsl::dropout{.p = 0.5} | dsl::dense{.units = 10, .name = "head"} | dsl::softmax_cross_entropy{};

}  // namespace kiln::zoo
