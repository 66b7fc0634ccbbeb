// expect: text_t\{"cyclic_cosine: .restart must be in \(.floor, 1\]"\}>
#include <kiln/kiln.hpp>
using namespace kiln::dsl;

constexpr auto model = input<8> | dense{.units = 2} | softmax_cross_entropy{};
constexpr auto plan = training_plan{
    .optimizer = sgd{.lr = 0.5},
    .lr = cyclic_cosine{.cycle_epochs = 2, .first_cycle_epochs = 6, .restart = 1.5},
    .ensemble = ensemble{.snapshots = true}};

int main() { auto trainer = kiln::compile<model, plan>(); }
