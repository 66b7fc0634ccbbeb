// expect: text_t\{"skip_step: full-batch plans \(lbfgs, newton_cg\) take one step per epoch; use stop_run"\}>
#include <kiln/kiln.hpp>
using namespace kiln::dsl;

constexpr auto model = input<8> | dense{.units = 2} | softmax_cross_entropy{};
constexpr auto plan = training_plan{.optimizer = lbfgs{}, .nonfinite = skip_step{}};

int main() { auto trainer = kiln::compile<model, plan>(); }
