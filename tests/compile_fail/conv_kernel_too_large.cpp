// expect: invalid_layer<1, kiln::dsl::conv2d\{8, 7, 1, 1, kiln::dsl::name_t\{""\}\}, kiln::dsl::shape\{3, int \[4\]\{1, 4, 4\}\}, kiln::dsl::text_t\{"conv2d: the kernel is larger than the padded input"\}>
#include <kiln/kiln.hpp>
using namespace kiln::dsl;

// The layers after the bad one see an empty image: their shape rules must stay quiet.
constexpr auto model = input<1, 4, 4> | conv2d{.filters = 8, .kernel = 7, .pad = 1}
                       | max_pool{.size = 2} | fractional_max_pool{} | flatten{}
                       | dense{.units = 10} | softmax_cross_entropy{};
constexpr auto plan = training_plan{.optimizer = sgd{.lr = 0.1}};

int main() { auto trainer = kiln::compile<model, plan>(); }
