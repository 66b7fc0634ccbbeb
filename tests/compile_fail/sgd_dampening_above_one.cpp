// expect: text_t\{"sgd: .dampening must be in \[0, 1\]"\}
// The plan's constants are checked at compile time by the static_assert kiln::compile runs.
#include <kiln/dsl/dsl.hpp>
using namespace kiln::dsl;

constexpr auto plan = training_plan{.optimizer = sgd{.momentum = 0.9, .dampening = 2}};
constexpr bool checked = report_plan<plan>();
