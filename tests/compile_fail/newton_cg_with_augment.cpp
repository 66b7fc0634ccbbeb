// expect: text_t\{"full-batch plans \(lbfgs, newton_cg\) see the data as it is: no .augment"\}>
#include <kiln/kiln.hpp>
using namespace kiln::dsl;

constexpr auto model = input<1, 8, 8> | flatten{} | dense{.units = 2} | softmax_cross_entropy{};
constexpr auto plan = training_plan{.optimizer = newton_cg{}, .augment = hflip{}};

int main() { auto trainer = kiln::compile<model, plan>(); }
