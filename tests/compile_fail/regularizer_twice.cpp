// expect: text_t\{"regularizers: each kind may appear once in a plan"\}
// The plan's constants are checked at compile time by the static_assert kiln::compile runs.
#include <kiln/dsl/dsl.hpp>
using namespace kiln::dsl;

constexpr auto plan = training_plan{.optimizer = sgd{}, .regularizer = l2{1e-4} + l1{1e-5} + l2{1e-3}};
constexpr bool checked = report_plan<plan>();
