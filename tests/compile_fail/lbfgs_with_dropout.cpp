// expect: text_t\{"lbfgs, newton_cg: the objective must be fixed \(no dropout, DropConnect, FMP, stochastic depth\)"\}>
#include <kiln/kiln.hpp>
using namespace kiln::dsl;

constexpr auto model =
    input<8> | dense{.units = 4} | relu{} | dropout{.p = 0.5} | dense{.units = 2} | softmax_cross_entropy{};
constexpr auto plan = training_plan{.optimizer = lbfgs{}};

int main() { auto trainer = kiln::compile<model, plan>(); }
