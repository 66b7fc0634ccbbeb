// expect: text_t\{"sgd: .nesterov needs .momentum > 0 and .dampening == 0"\}>
#include <kiln/kiln.hpp>
using namespace kiln::dsl;

constexpr auto model = input<8> | dense{.units = 2} | softmax_cross_entropy{};
constexpr auto plan = training_plan{.optimizer = sgd{.lr = 0.5, .nesterov = true}};

int main() { auto trainer = kiln::compile<model, plan>(); }
