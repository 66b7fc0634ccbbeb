// Two smooth functions of eight inputs (an npz: x float64 [N, 8], y float32 [N, 2]).
#include <kiln/kiln.hpp>

using namespace kiln::dsl;

constexpr auto model = input<8> | dense{.units = 64, .name = "h1"} | tanh_{} |
                       dense{.units = 64, .name = "h2"} | tanh_{} |
                       dense{.units = 2, .name = "out"} | mse{};
constexpr auto plan = training_plan{.optimizer = adam{.lr = 3e-3}, .epochs = 30, .batch = 64};
