// expect: invalid_layer<1, kiln::dsl::avg_pool\{2, 1, 2\}, kiln::dsl::shape\{3, int \[4\]\{1, 28, 28\}\}, kiln::dsl::text_t\{"avg_pool: .pad must be in \[0, size / 2\]"\}>
#include <kiln/kiln.hpp>
using namespace kiln::dsl;

constexpr auto model = input<1, 28, 28> | avg_pool{.size = 2, .stride = 1, .pad = 2} | flatten{}
                       | dense{.units = 10} | softmax_cross_entropy{};
constexpr auto plan = training_plan{.optimizer = sgd{.lr = 0.1}};

int main() { auto trainer = kiln::compile<model, plan>(); }
