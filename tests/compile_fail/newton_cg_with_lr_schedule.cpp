// expect: text_t\{"newton_cg has no learning rate: leave .lr as constant_lr\{\}"\}>
#include <kiln/kiln.hpp>
using namespace kiln::dsl;

constexpr auto model = input<8> | dense{.units = 2} | softmax_cross_entropy{};
constexpr auto plan = training_plan{.optimizer = newton_cg{}, .lr = step_decay{.every_epochs = 2}};

int main() { auto trainer = kiln::compile<model, plan>(); }
