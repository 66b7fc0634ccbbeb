// expect: invalid_layer<2, kiln::dsl::softmax_cross_entropy\{0\.0\}, kiln::dsl::shape\{1, int \[4\]\{10\}\}, kiln::dsl::text_t\{"a loss may only be the last layer"\}>
#include <kiln/kiln.hpp>
using namespace kiln::dsl;

constexpr auto model = input<784> | dense{.units = 10} | softmax_cross_entropy{} | relu{}
                       | softmax_cross_entropy{};
constexpr auto plan = training_plan{.optimizer = sgd{.lr = 0.1}};

int main() { auto trainer = kiln::compile<model, plan>(); }
