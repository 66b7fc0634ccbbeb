// expect: text_t\{"full-batch plans \(lbfgs, newton_cg\) keep no moving average: no .ema"\}>
#include <kiln/kiln.hpp>
using namespace kiln::dsl;

constexpr auto model = input<8> | dense{.units = 2} | softmax_cross_entropy{};
constexpr auto plan = training_plan{.optimizer = lbfgs{}, .ensemble = ensemble{.ema = 0.99}};

int main() { auto trainer = kiln::compile<model, plan>(); }
