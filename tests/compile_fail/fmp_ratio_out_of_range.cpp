// expect: invalid_layer<1, kiln::dsl::fractional_max_pool\{2.5e\+0, false\}, kiln::dsl::shape\{3, int \[4\]\{1, 28, 28\}\}, kiln::dsl::text_t\{"fractional_max_pool: .ratio must be in \(1, 2\]"\}>
#include <kiln/kiln.hpp>
using namespace kiln::dsl;

constexpr auto model = input<1, 28, 28> | fractional_max_pool{.ratio = 2.5} | flatten{}
                       | dense{.units = 10} | softmax_cross_entropy{};
constexpr auto plan = training_plan{.optimizer = sgd{.lr = 0.1}};

int main() { auto trainer = kiln::compile<model, plan>(); }
