// expect: invalid_plan<kiln::dsl::skip_step\{0.0, 10\}, kiln::dsl::text_t\{"skip_step: .lr_factor must be in \(0, 1\]"\}>
#include <kiln/kiln.hpp>
using namespace kiln::dsl;

constexpr auto model = input<8> | dense{.units = 2} | softmax_cross_entropy{};
constexpr auto plan = training_plan{.optimizer = sgd{.lr = 0.1}, .nonfinite = skip_step{.lr_factor = 0}};

int main() { auto trainer = kiln::compile<model, plan>(); }
