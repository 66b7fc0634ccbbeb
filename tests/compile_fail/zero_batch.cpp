// expect: text_t\{"training_plan: .batch must be positive"\}>
#include <kiln/kiln.hpp>
using namespace kiln::dsl;

constexpr auto model = input<8> | dense{.units = 2} | softmax_cross_entropy{};
constexpr auto plan = training_plan{.optimizer = sgd{.lr = 0.5}, .batch = 0};

int main() { auto trainer = kiln::compile<model, plan>(); }
