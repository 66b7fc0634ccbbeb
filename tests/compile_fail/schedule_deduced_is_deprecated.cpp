// warns: warning: .*deprecated: kiln: dsl::schedule is now dsl::training_plan
// The plan's earlier name, deduced from its members as users wrote it: it still compiles and
// trains (the trainer reads a plan's members), with a warning naming the new spelling.
#include <kiln/kiln.hpp>
using namespace kiln::dsl;

constexpr auto model = input<8> | dense{.units = 2} | softmax_cross_entropy{};
constexpr auto plan = schedule{.optimizer = sgd{.lr = 0.5}, .epochs = 1, .batch = 4};

int main() { auto trainer = kiln::compile<model, plan>(); }
