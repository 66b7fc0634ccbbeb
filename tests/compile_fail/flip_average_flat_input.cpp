// expect: text_t\{"test_time: .hflip needs an image input, input<C, H, W>"\}>
#include <kiln/kiln.hpp>
using namespace kiln::dsl;

constexpr auto model = input<8> | dense{.units = 2} | softmax_cross_entropy{};
constexpr auto plan = training_plan{.optimizer = sgd{.lr = 0.5}, .test_time = {.hflip = true}};

int main() { auto trainer = kiln::compile<model, plan>(); }
