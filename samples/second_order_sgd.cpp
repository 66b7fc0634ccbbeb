// The second_order sample's SGD runs: full-batch gradient descent with momentum.
#include "second_order.hpp"

namespace second_order_sample {

// Learning rates: the best of {0.05, 0.1, 0.2, 0.5} with momentum 0.9 after 300 evaluations
// (seed 0; plain SGD with 0.5, 1 or 2 ended higher).
constexpr auto sgd_softmax =
    training_plan{.optimizer = sgd{.lr = 0.5, .momentum = 0.9}, .batch = most_samples};
constexpr auto sgd_mlp =
    training_plan{.optimizer = sgd{.lr = 0.2, .momentum = 0.9}, .batch = most_samples};

std::vector<run> sgd_runs(const budget& b) {
  return {first_order<softmax_regression, sgd_softmax>(softmax_name, "SGD momentum", b),
          first_order<small_mlp, sgd_mlp>(mlp_name, "SGD momentum", b)};
}

}  // namespace second_order_sample
