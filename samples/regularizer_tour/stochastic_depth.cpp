// Tour variant "stochastic_depth": both residual blocks with stochastic depth (p_last 0.5).
#include "variants.hpp"

namespace tour {

variant variant_stochastic_depth() {
  constexpr auto sd = stochastic_depth{.p_last = 0.5};
  constexpr auto with_sd = stem | max_pool{.size = 2} | residual{.body = block, .depth = sd} |
                           relu{} | max_pool{.size = 2} | residual{.body = block, .depth = sd} |
                           relu{} | head;
  return {"stochastic_depth", "both residual blocks with stochastic depth (p_last 0.5)",
          &train<with_sd, plain>};
}

}  // namespace tour
