// expect: invalid_plan<kiln::dsl::adam\{[^}]*\}, kiln::dsl::text_t\{"adam: .beta1 must be in \[0, 1\)"\}>
// The plan's constants are checked at compile time by the static_assert kiln::compile runs.
#include <kiln/dsl/dsl.hpp>
using namespace kiln::dsl;

constexpr auto plan = training_plan{.optimizer = adam{.beta1 = 1.0}};
constexpr bool checked = report_plan<plan>();
