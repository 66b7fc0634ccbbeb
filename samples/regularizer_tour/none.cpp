// Tour variant "none": no regularization.
#include "variants.hpp"

namespace tour {

variant variant_none() { return {"none", "no regularization", &train<base, plain>}; }

}  // namespace tour
