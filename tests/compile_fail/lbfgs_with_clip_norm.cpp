// expect: text_t\{"full-batch plans \(lbfgs, newton_cg\) take only the l2 and l1 regularizers"\}>
#include <kiln/kiln.hpp>
using namespace kiln::dsl;

constexpr auto model = input<8> | dense{.units = 2} | softmax_cross_entropy{};
constexpr auto plan = training_plan{.optimizer = lbfgs{}, .regularizer = l2{1e-4} + clip_norm{1}};

int main() { auto trainer = kiln::compile<model, plan>(); }
