// expect: missing_unit<halve\(\), kiln::dsl::text_t\{"a layer without its op: specialize codegen::op<L, In> \(codegen/layers/\)"\}>
// A layer descriptor the DSL accepts but no codegen::op<> specialization implements: one line
// naming the descriptor (codegen/concepts.hpp), not an incomplete type inside the trainer.
#include <kiln/kiln.hpp>
using namespace kiln::dsl;

struct halve {
  static constexpr std::string_view kind = "halve";
  constexpr shape out(shape in) const { return in; }
  constexpr const char* check(shape) const { return nullptr; }
};

constexpr auto model = input<8> | dense{.units = 4} | halve{} | softmax_cross_entropy{};
constexpr auto plan = training_plan{.optimizer = sgd{.lr = 0.1}};

int main() { auto trainer = kiln::compile<model, plan>(); }
