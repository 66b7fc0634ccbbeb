// Tour variant "augmentation": random crop (pad 2) and horizontal flip.
#include "variants.hpp"

namespace tour {

variant variant_augmentation() {
  constexpr auto augmented = training_plan{
      .optimizer = sgdm, .lr = cosine, .augment = random_crop{.pad = 2} | hflip{}, .batch = 64};
  return {"augmentation", "random crop (pad 2) and horizontal flip", &train<base, augmented>};
}

}  // namespace tour
