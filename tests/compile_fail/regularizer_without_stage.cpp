// expect: missing_unit<shrink\{5.0e-1\}, kiln::dsl::text_t\{"a regularizer without its stage: specialize codegen::regular<R> \(codegen/update/\)"\}>
// A regularizer descriptor the plan accepts but no stage implements: one line naming the
// descriptor (codegen/concepts.hpp).
#include <kiln/kiln.hpp>
using namespace kiln::dsl;

struct shrink {
  static constexpr std::string_view kind = "shrink";
  static constexpr phase when = phase::penalty;
  double lambda = 0.5;
  constexpr const char* check() const { return nullptr; }
};

constexpr auto model = input<8> | dense{.units = 2} | softmax_cross_entropy{};
constexpr auto plan = training_plan{.optimizer = sgd{.lr = 0.1}, .regularizer = shrink{}};

int main() { auto trainer = kiln::compile<model, plan>(); }
