// expect: invalid_layer<0, kiln::dsl::flatten\(\), kiln::dsl::shape\{1, int \[4\]\{0[^}]*\}\}, kiln::dsl::text_t\{"the model must start with input<...>"\}>
#include <kiln/kiln.hpp>
using namespace kiln::dsl;

constexpr auto model = chain | flatten{} | dense{.units = 10} | softmax_cross_entropy{};
constexpr auto plan = training_plan{.optimizer = sgd{.lr = 0.1}};

int main() { auto trainer = kiln::compile<model, plan>(); }
