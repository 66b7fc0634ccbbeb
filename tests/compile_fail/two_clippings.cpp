// expect: text_t\{"regularizers: clip by value or by norm, not both"\}
// The plan's constants are checked at compile time by the static_assert kiln::compile runs.
#include <kiln/dsl/dsl.hpp>
using namespace kiln::dsl;

constexpr auto plan = training_plan{.optimizer = adam{}, .regularizer = clip_value{1} + clip_norm{1}};
constexpr bool checked = report_plan<plan>();
