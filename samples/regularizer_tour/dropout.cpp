// Tour variant "dropout": dropout 0.5 before the last layer.
#include "variants.hpp"

namespace tour {

variant variant_dropout() {
  constexpr auto with_dropout = stem | max_pool{.size = 2} | residual{block} | relu{} |
                                max_pool{.size = 2} | residual{block} | relu{} | flatten{} |
                                dense{.units = 128} | relu{} | dropout{.p = 0.5} |
                                dense{.units = 10} | softmax_cross_entropy{};
  return {"dropout", "dropout 0.5 before the last layer", &train<with_dropout, plain>};
}

}  // namespace tour
