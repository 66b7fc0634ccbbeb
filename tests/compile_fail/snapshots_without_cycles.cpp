// expect: text_t\{"ensemble: .snapshots needs .lr = cyclic_cosine\{...\} \(a snapshot ends each cycle\)"\}>
#include <kiln/kiln.hpp>
using namespace kiln::dsl;

constexpr auto model = input<8> | dense{.units = 2} | softmax_cross_entropy{};
constexpr auto plan = training_plan{.optimizer = sgd{.lr = 0.5}, .ensemble = ensemble{.snapshots = true}};

int main() { auto trainer = kiln::compile<model, plan>(); }
