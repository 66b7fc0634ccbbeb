// expect: missing_unit<sign_descent\{1.0e-2\}, kiln::dsl::text_t\{"an optimizer without its update stage: specialize codegen::optim<O> \(codegen/update/\)"\}>
// An optimizer descriptor the plan accepts but no update stage implements: one line naming the
// descriptor (codegen/concepts.hpp).
#include <kiln/kiln.hpp>
using namespace kiln::dsl;

struct sign_descent {
  static constexpr std::string_view kind = "sign_descent";
  double lr = 0.01;
  constexpr int states() const { return 0; }
  constexpr const char* check() const { return nullptr; }
};

constexpr auto model = input<8> | dense{.units = 2} | softmax_cross_entropy{};
constexpr auto plan = training_plan{.optimizer = sign_descent{}};

int main() { auto trainer = kiln::compile<model, plan>(); }
