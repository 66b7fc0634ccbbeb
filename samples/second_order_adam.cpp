// The second_order sample's Adam runs (full batch), in a translation unit of their own.
#include "second_order.hpp"

namespace second_order_sample {

// Learning rates: the best of {0.001, 0.003, 0.01, 0.03, 0.1} after 300 evaluations (seed 0).
constexpr auto adam_softmax = training_plan{.optimizer = adam{.lr = 0.1}, .batch = most_samples};
constexpr auto adam_mlp = training_plan{.optimizer = adam{.lr = 0.01}, .batch = most_samples};

std::vector<run> adam_runs(const budget& b) {
  return {first_order<softmax_regression, adam_softmax>(softmax_name, "Adam", b),
          first_order<small_mlp, adam_mlp>(mlp_name, "Adam", b)};
}

}  // namespace second_order_sample
