// expect: invalid_layer<2, kiln::dsl::conv2d\{16, 3, 1, 1, kiln::dsl::name_t\{"c1[^}]*\}\}, kiln::dsl::shape\{1, int \[4\]\{784\}\}, kiln::dsl::text_t\{"conv2d: the input is not an image \{channels, height, width\}"\}>
#include <kiln/kiln.hpp>
using namespace kiln::dsl;

constexpr auto model = input<1, 28, 28> | flatten{}
                       | conv2d{.filters = 16, .kernel = 3, .pad = 1, .name = "c1"} | relu{}
                       | dense{.units = 10} | softmax_cross_entropy{};
constexpr auto plan = training_plan{.optimizer = sgd{.lr = 0.1}};

int main() { auto trainer = kiln::compile<model, plan>(); }
