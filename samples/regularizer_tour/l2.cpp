// Tour variant "l2": L2 1e-3 on weights (coupled weight decay).
#include "variants.hpp"

namespace tour {

variant variant_l2() {
  constexpr auto with_l2 =
      training_plan{.optimizer = sgdm, .regularizer = l2{1e-3}, .lr = cosine, .batch = 64};
  return {"l2", "L2 1e-3 on weights (coupled weight decay)", &train<base, with_l2>};
}

}  // namespace tour
