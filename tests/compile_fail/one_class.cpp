// expect: invalid_layer<2, kiln::dsl::softmax_cross_entropy\{0\.0\}, kiln::dsl::shape\{1, int \[4\]\{1\}\}, kiln::dsl::text_t\{"softmax_cross_entropy: needs at least 2 classes"\}>
#include <kiln/kiln.hpp>
using namespace kiln::dsl;

constexpr auto model = input<8> | dense{.units = 1} | softmax_cross_entropy{};
constexpr auto plan = training_plan{.optimizer = sgd{.lr = 0.1}};

int main() { auto trainer = kiln::compile<model, plan>(); }
