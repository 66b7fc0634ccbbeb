// expect: invalid_plan<kiln::dsl::max_norm\{0.0\}, kiln::dsl::text_t\{"max_norm: c must be > 0"\}>
// The plan's constants are checked at compile time by the static_assert kiln::compile runs.
#include <kiln/dsl/dsl.hpp>
using namespace kiln::dsl;

constexpr auto plan = training_plan{.optimizer = sgd{}, .regularizer = max_norm{0}};
constexpr bool checked = report_plan<plan>();
