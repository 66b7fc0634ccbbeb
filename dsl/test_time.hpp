// Test-time augmentation in the plan: `.test_time = test_time{.hflip = true}`.
//   hflip  every evaluated image is also run mirrored left–right, and the two logit vectors are
//          averaged, (z(x) + z(flip x)) / 2, before the loss, the arg-max and anything built on
//          them (accuracy, ensembles, snapshots, EMA weights). A model trained with hflip{}
//          augmentation has learnt both orientations; averaging them removes the part of its
//          error that depends on the orientation. Training is not affected. Costs one more
//          forward pass per evaluated image. Needs an image input, input<C, H, W>.
#pragma once

#include <string_view>

#include "kiln/dsl/core.hpp"

namespace kiln::dsl {

struct test_time {
  static constexpr std::string_view kind = "test_time";
  bool hflip = false;

  constexpr const char* check(shape input) const {
    if (hflip && input.rank != 3) return "test_time: .hflip needs an image input, input<C, H, W>";
    return nullptr;
  }
};

}  // namespace kiln::dsl
