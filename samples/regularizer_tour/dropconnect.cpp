// Tour variant "dropconnect": the hidden dense layer as DropConnect 0.5.
#include "variants.hpp"

namespace tour {

variant variant_dropconnect() {
  constexpr auto with_dropconnect = stem | max_pool{.size = 2} | residual{block} | relu{} |
                                    max_pool{.size = 2} | residual{block} | relu{} | flatten{} |
                                    dropconnect{.units = 128, .p = 0.5} | relu{} |
                                    dense{.units = 10} | softmax_cross_entropy{};
  return {"dropconnect", "the hidden dense layer as DropConnect 0.5",
          &train<with_dropconnect, plain>};
}

}  // namespace tour
