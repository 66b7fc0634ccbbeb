// warns: warning: .*schedule.* is deprecated: kiln: dsl::schedule is now dsl::training_plan
// The plan's earlier name with its arguments spelled out.
#include <kiln/kiln.hpp>
using namespace kiln::dsl;

constexpr schedule<sgd> plan{.optimizer = sgd{.lr = 0.5}, .batch = 4};

int main() { return plan.batch == 4 ? 0 : 1; }
