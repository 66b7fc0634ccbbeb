// expect: text_t\{"adagrad: .lr_decay must be >= 0"\}
// The plan's constants are checked at compile time by the static_assert kiln::compile runs.
#include <kiln/dsl/dsl.hpp>
using namespace kiln::dsl;

constexpr auto plan = training_plan{.optimizer = adagrad{.lr_decay = -1}};
constexpr bool checked = report_plan<plan>();
