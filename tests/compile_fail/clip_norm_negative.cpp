// expect: text_t\{"clip_norm: c must be > 0"\}
// The plan's constants are checked at compile time by the static_assert kiln::compile runs.
#include <kiln/dsl/dsl.hpp>
using namespace kiln::dsl;

constexpr auto plan = training_plan{.optimizer = adam{}, .regularizer = l2{1e-4} + clip_norm{-1}};
constexpr bool checked = report_plan<plan>();
