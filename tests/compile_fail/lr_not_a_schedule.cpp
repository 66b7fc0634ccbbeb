// expect: invalid_plan<halving\{2\}, kiln::dsl::text_t\{"lr: not a learning-rate schedule: it needs kind, check\(\) and factor\(lr_clock\) \(dsl/lr/\)"\}>
// A type given as the plan's .lr that is not a learning-rate schedule (dsl::lr_schedule: here
// no factor): one line naming it, not a failed constraint on the plan's type.
#include <kiln/kiln.hpp>
using namespace kiln::dsl;

struct halving {
  static constexpr std::string_view kind = "halving";
  int every = 2;
  constexpr const char* check() const { return nullptr; }
};

constexpr auto model = input<8> | dense{.units = 2} | softmax_cross_entropy{};
constexpr auto plan = training_plan{.optimizer = sgd{.lr = 0.1}, .lr = halving{}};

int main() { auto trainer = kiln::compile<model, plan>(); }
