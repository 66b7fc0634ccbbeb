// Tour variant "batch_norm": batch norm after every conv and the hidden dense layer.
#include "variants.hpp"

namespace tour {

variant variant_batch_norm() {
  constexpr auto bn_block = chain | conv2d{.filters = 16, .kernel = 3, .pad = 1} | batch_norm{} |
                            relu{} | conv2d{.filters = 16, .kernel = 3, .pad = 1} | batch_norm{};
  constexpr auto with_bn = input<1, 28, 28> | conv2d{.filters = 16, .kernel = 3, .pad = 1} |
                           batch_norm{} | relu{} | max_pool{.size = 2} | residual{bn_block} |
                           relu{} | max_pool{.size = 2} | residual{bn_block} | relu{} | flatten{} |
                           dense{.units = 128} | batch_norm{} | relu{} | dense{.units = 10} |
                           softmax_cross_entropy{};
  return {"batch_norm", "batch norm after every conv and the hidden dense layer",
          &train<with_bn, plain>};
}

}  // namespace tour
