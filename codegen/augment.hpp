// A plan's augmentation pipeline, as the runtime's list of steps (runtime/data/augment.hpp runs
// them in the loader thread).
#pragma once

#include "kiln/dsl/augment/augment.hpp"
#include "kiln/runtime/model.hpp"  // rt::augment_plan, part of the model view

namespace kiln::codegen {

inline rt::augment_step runtime_step(const dsl::random_crop& a) {
  return {.what = rt::augment_step::op::crop, .pixels = a.pad};
}
inline rt::augment_step runtime_step(const dsl::hflip& a) {
  return {.what = rt::augment_step::op::flip, .p = a.p};
}
inline rt::augment_step runtime_step(const dsl::translate& a) {
  return {.what = rt::augment_step::op::translate, .pixels = a.pixels};
}
inline rt::augment_step runtime_step(const dsl::color_jitter& a) {
  return {.what = rt::augment_step::op::jitter, .brightness = a.brightness, .contrast = a.contrast};
}

template <auto Augment>
rt::augment_plan runtime_plan() {
  constexpr auto list = dsl::as_augments(Augment);
  rt::augment_plan plan;
  dsl::for_each_index<list.size>(
      [&]<std::size_t I>(dsl::index_c<I>) { plan.push_back(runtime_step(dsl::at<I>(list))); });
  return plan;
}

}  // namespace kiln::codegen
