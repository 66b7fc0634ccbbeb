// expect: invalid_plan<kiln::dsl::sgd\{-5.0e-1, [^}]*\}, kiln::dsl::text_t\{"sgd: .lr must be >= 0"\}>
#include <kiln/kiln.hpp>
using namespace kiln::dsl;

constexpr auto model = input<8> | dense{.units = 2} | softmax_cross_entropy{};
constexpr auto plan = training_plan{.optimizer = sgd{.lr = -0.5}};

int main() { auto trainer = kiln::compile<model, plan>(); }
