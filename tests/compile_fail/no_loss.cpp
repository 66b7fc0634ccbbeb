// expect: invalid_layer<3, kiln::dsl::relu\(\), kiln::dsl::shape\{1, int \[4\]\{10\}\}, kiln::dsl::text_t\{"the model must end with a loss: softmax_cross_entropy\{\} or mse\{\}"\}>
#include <kiln/kiln.hpp>
using namespace kiln::dsl;

constexpr auto model = input<784> | dense{.units = 10} | relu{} | relu{};
constexpr auto plan = training_plan{.optimizer = sgd{.lr = 0.1}};

int main() { auto trainer = kiln::compile<model, plan>(); }
