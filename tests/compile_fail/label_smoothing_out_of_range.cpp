// expect: text_t\{"softmax_cross_entropy: .label_smoothing must be in \[0, 1\]"\}>
#include <kiln/kiln.hpp>
using namespace kiln::dsl;

constexpr auto model =
    input<8> | dense{.units = 2} | softmax_cross_entropy{.label_smoothing = 1.5};
constexpr auto plan = training_plan{.optimizer = sgd{.lr = 0.5}};

int main() { auto trainer = kiln::compile<model, plan>(); }
