// expect: invalid_plan<kiln::dsl::newton_cg\{[^}]*\}, kiln::dsl::text_t\{"newton_cg: .damping must be >= 0"\}>
#include <kiln/kiln.hpp>
using namespace kiln::dsl;

constexpr auto model = input<8> | dense{.units = 2} | softmax_cross_entropy{};
constexpr auto plan = training_plan{.optimizer = newton_cg{.damping = -0.1}};

int main() { auto trainer = kiln::compile<model, plan>(); }
