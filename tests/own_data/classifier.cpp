// Three kinds of object told apart from six sensor readings (a CSV with a header; the label
// column, "species", sits among the features).
#include <kiln/kiln.hpp>

using namespace kiln::dsl;

constexpr auto model = input<6> | dense{.units = 32, .name = "hidden"} | relu{} |
                       dropout{.p = 0.1} | dense{.units = 3, .name = "out"} |
                       softmax_cross_entropy{};
constexpr auto plan = training_plan{.optimizer = adam{.lr = 1e-2}, .epochs = 15, .batch = 32};
