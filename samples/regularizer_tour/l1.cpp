// Tour variant "l1": L1 5e-5 on weights.
#include "variants.hpp"

namespace tour {

variant variant_l1() {
  constexpr auto with_l1 =
      training_plan{.optimizer = sgdm, .regularizer = l1{5e-5}, .lr = cosine, .batch = 64};
  return {"l1", "L1 5e-5 on weights", &train<base, with_l1>};
}

}  // namespace tour
