// expect: invalid_plan<kiln::dsl::lbfgs\{[^}]*\}, kiln::dsl::text_t\{"lbfgs: .history must be at least 1"\}>
#include <kiln/kiln.hpp>
using namespace kiln::dsl;

constexpr auto model = input<8> | dense{.units = 2} | softmax_cross_entropy{};
constexpr auto plan = training_plan{.optimizer = lbfgs{.history = 0}};

int main() { auto trainer = kiln::compile<model, plan>(); }
