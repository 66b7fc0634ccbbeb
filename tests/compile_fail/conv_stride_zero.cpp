// expect: invalid_layer<1, kiln::dsl::conv2d\{8, 3, 0, 0, kiln::dsl::name_t\{""\}\}, kiln::dsl::shape\{3, int \[4\]\{1, 28, 28\}\}, kiln::dsl::text_t\{"conv2d: .stride must be positive"\}>
#include <kiln/kiln.hpp>
using namespace kiln::dsl;

// A zero stride must not divide by zero while the shapes of the later layers are computed.
constexpr auto model = input<1, 28, 28> | conv2d{.filters = 8, .kernel = 3, .stride = 0}
                       | avg_pool{.size = 2} | flatten{} | dense{.units = 10}
                       | softmax_cross_entropy{};
constexpr auto plan = training_plan{.optimizer = sgd{.lr = 0.1}};

int main() { auto trainer = kiln::compile<model, plan>(); }
