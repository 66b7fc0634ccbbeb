// expect: invalid_plan<.*kiln::dsl::hflip\{2.0e\+0\}.*, kiln::dsl::text_t\{"hflip: .p must be in \[0, 1\]"\}>
#include <kiln/kiln.hpp>
using namespace kiln::dsl;

constexpr auto model = input<1, 28, 28> | flatten{} | dense{.units = 10} | softmax_cross_entropy{};
constexpr auto plan = training_plan{.optimizer = sgd{.lr = 0.1},
                               .augment = random_crop{.pad = 2} | hflip{.p = 2}};

int main() { auto trainer = kiln::compile<model, plan>(); }
