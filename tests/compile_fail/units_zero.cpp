// expect: invalid_layer<2, kiln::dsl::dense\{0, kiln::dsl::name_t\{"fc1[^}]*\}\}, kiln::dsl::shape\{1, int \[4\]\{784\}\}, kiln::dsl::text_t\{"dense: .units must be positive"\}>
#include <kiln/kiln.hpp>
using namespace kiln::dsl;

constexpr auto model = input<1, 28, 28> | flatten{} | dense{.units = 0, .name = "fc1"}
                       | dense{.units = 10} | softmax_cross_entropy{};
constexpr auto plan = training_plan{.optimizer = sgd{.lr = 0.1}};

int main() { auto trainer = kiln::compile<model, plan>(); }
