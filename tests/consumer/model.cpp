// Softmax regression on Fashion-MNIST, as a user's model file.
#include <kiln/kiln.hpp>

using namespace kiln::dsl;

constexpr auto model =
    input<1, 28, 28> | flatten{} | dense{.units = 10, .name = "head"} | softmax_cross_entropy{};
constexpr auto plan = training_plan{.optimizer = sgd{.lr = 0.1}, .epochs = 1, .batch = 128};
