// expect: invalid_layer<2, kiln::dsl::residual<.*>\{.*\}, kiln::dsl::shape\{3, int \[4\]\{8, 14, 14\}\}, kiln::dsl::text_t\{"residual: the block must output the shape it receives \(the skip path adds them\)"\}>
#include <kiln/kiln.hpp>
using namespace kiln::dsl;

constexpr auto model = input<1, 28, 28> | conv2d{.filters = 8, .kernel = 2, .stride = 2}
                       | residual{chain | conv2d{.filters = 16, .kernel = 3, .pad = 1}}
                       | flatten{} | dense{.units = 10} | softmax_cross_entropy{};
constexpr auto plan = training_plan{.optimizer = sgd{.lr = 0.1}};

int main() { auto trainer = kiln::compile<model, plan>(); }
