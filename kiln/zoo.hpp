// A zoo model ready to use: the trainer generated for its architecture, holding its verified
// weights.   auto m = kiln::zoo::pretrained<kiln::zoo::fmnist_mlp>("fmnist_mlp");
#pragma once

#include <string_view>

#include "kiln/kiln.hpp"
#include "kiln/dsl/optim/sgd.hpp"
#include "kiln/dsl/plan.hpp"
#include "kiln/dsl/zoo.hpp"
#include "kiln/runtime/zoo/zoo.hpp"

namespace kiln::zoo {

// For evaluation (and fine-tuning from the zoo's weights: pass a plan of your own).
inline constexpr auto evaluation_plan = dsl::training_plan{.optimizer = dsl::sgd{}, .batch = 500};

template <auto Model, auto Plan = evaluation_plan>
trainer<Model, Plan> pretrained(std::string_view name, const trainer_options& options = {}) {
  trainer<Model, Plan> t(options);
  load(t, find(name));
  return t;
}

}  // namespace kiln::zoo
