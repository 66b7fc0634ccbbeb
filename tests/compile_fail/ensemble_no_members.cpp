// expect: text_t\{"ensemble: .members must be in \[1, 64\]"\}>
#include <kiln/kiln.hpp>
using namespace kiln::dsl;

constexpr auto model = input<8> | dense{.units = 2} | softmax_cross_entropy{};
constexpr auto plan = training_plan{.optimizer = sgd{.lr = 0.5}, .ensemble = ensemble{.members = 0}};

int main() { auto trainer = kiln::compile<model, plan>(); }
