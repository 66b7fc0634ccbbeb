// expect: text_t\{"full-batch plans \(lbfgs, newton_cg\) need a deterministic objective: no dropout, dropconnect, fractional_max_pool or stochastic_depth in the model"\}>
#include <kiln/kiln.hpp>
using namespace kiln::dsl;

constexpr auto model =
    input<8> | dense{.units = 4} | relu{} | dropout{.p = 0.5} | dense{.units = 2} | softmax_cross_entropy{};
constexpr auto plan = schedule{.optimizer = lbfgs{}};

int main() { auto trainer = kiln::compile<model, plan>(); }
