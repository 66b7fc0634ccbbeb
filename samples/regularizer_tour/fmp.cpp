// Tour variant "fmp": both max pools as fractional max pooling (ratio sqrt 2, overlapping).
#include "variants.hpp"

namespace tour {

variant variant_fmp() {
  constexpr auto fmp = fractional_max_pool{.ratio = 1.41421356, .overlapping = true};
  constexpr auto with_fmp =
      stem | fmp | residual{block} | relu{} | fmp | residual{block} | relu{} | head;
  return {"fmp", "both max pools as fractional max pooling (ratio sqrt 2, overlapping)",
          &train<with_fmp, plain>};
}

}  // namespace tour
