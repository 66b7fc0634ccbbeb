// Fashion-MNIST with a multi-layer perceptron: 784-256-128-10, ReLU, softmax cross-entropy.
// Built by kiln_add_trainer(fmnist_mlp fmnist_mlp.hpp): run `fmnist_mlp --help` for the flags.
#include <kiln/kiln.hpp>

using namespace kiln::dsl;

constexpr auto model = input<1, 28, 28> | flatten{}                   //
                       | dense{.units = 256, .name = "fc1"} | relu{}  //
                       | dense{.units = 128, .name = "fc2"} | relu{}  //
                       | dense{.units = 10, .name = "head"} | softmax_cross_entropy{};

constexpr auto plan = schedule{
    .optimizer = sgd{.lr = 0.05, .momentum = 0.9},
    .lr = step_decay{.every_epochs = 4, .gamma = 0.5},
    .epochs = 10,
    .batch = 64,
};

static_assert(param_count(model) == 784 * 256 + 256 + 256 * 128 + 128 + 128 * 10 + 10);
