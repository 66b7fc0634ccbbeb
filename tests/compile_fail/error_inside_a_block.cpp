// expect: invalid_layer_in_block<2, 1, kiln::dsl::max_pool\{0, 0, 0\}, kiln::dsl::shape\{3, int \[4\]\{8, 14, 14\}\}, kiln::dsl::text_t\{"max_pool: .size must be positive"\}>
#include <kiln/kiln.hpp>
using namespace kiln::dsl;

// The note names the block (layer 2), the layer inside it (1) and the shape reaching that layer.
constexpr auto block = chain | conv2d{.filters = 8, .kernel = 3, .pad = 1} | max_pool{.size = 0}
                       | relu{};
constexpr auto model = input<1, 28, 28> | conv2d{.filters = 8, .kernel = 2, .stride = 2}
                       | residual{block} | flatten{} | dense{.units = 10}
                       | softmax_cross_entropy{};
constexpr auto plan = training_plan{.optimizer = sgd{.lr = 0.1}};

int main() { auto trainer = kiln::compile<model, plan>(); }
