// expect: invalid_layer<3, kiln::dsl::max_pool\{5, 0, 0\}, kiln::dsl::shape\{3, int \[4\]\{4, 3, 3\}\}, kiln::dsl::text_t\{"max_pool: the window is larger than the padded input"\}>
#include <kiln/kiln.hpp>
using namespace kiln::dsl;

constexpr auto model = input<1, 6, 6> | conv2d{.filters = 4, .kernel = 3, .pad = 1}
                       | max_pool{.size = 2} | max_pool{.size = 5} | global_avg_pool{}
                       | dense{.units = 10} | softmax_cross_entropy{};
constexpr auto plan = training_plan{.optimizer = sgd{.lr = 0.1}};

int main() { auto trainer = kiln::compile<model, plan>(); }
