// Data augmentation in the plan: a pipeline of random transforms applied to every training
// sample, in order, in the loader's background thread (never at evaluation):
//   .augment = random_crop{.pad = 2} | hflip{} | color_jitter{.brightness = 0.2}
// The draws come from the epoch's augmentation generator (seed, epoch), so a run is
// reproducible and a resumed epoch sees the same transforms.
#pragma once

#include <concepts>
#include <string_view>

#include "kiln/dsl/core.hpp"

namespace kiln::dsl {

template <class A>
concept augmentation = requires(const A& a) {
  { A::kind } -> std::convertible_to<std::string_view>;
  { a.check() } -> std::same_as<const char*>;
  A::is_augmentation;
};

// The pipeline (structural, flat). augment_list<> is "no augmentation".
template <augmentation... A>
struct augment_list : slots<std::index_sequence_for<A...>, A...> {
  static constexpr std::size_t size = sizeof...(A);
};

using no_augment = augment_list<>;

template <augmentation... A, augmentation B>
constexpr augment_list<A..., B> operator|(const augment_list<A...>& a, const B& b) {
  return [&]<std::size_t... I>(std::index_sequence<I...>) {
    return augment_list<A..., B>{{{at<I>(a)}..., {b}}};
  }
  (std::index_sequence_for<A...>{});
}

template <augmentation A, augmentation B>
constexpr augment_list<A, B> operator|(const A& a, const B& b) {
  return augment_list<A, B>{{{a}, {b}}};
}

template <augmentation A>
constexpr augment_list<A> as_augments(const A& a) {
  return augment_list<A>{{{a}}};
}
template <augmentation... A>
constexpr augment_list<A...> as_augments(const augment_list<A...>& a) {
  return a;
}

// Random crop with zero padding (torchvision RandomCrop(size, padding=pad)): the image is padded
// by `pad` zeros on every side and an image-sized window is cut at a uniform random offset.
struct random_crop {
  static constexpr std::string_view kind = "random_crop";
  static constexpr bool is_augmentation = true;
  int pad = 4;
  constexpr const char* check() const {
    return pad >= 0 ? nullptr : "random_crop: .pad must be >= 0";
  }
};

// Horizontal flip with probability p (torchvision RandomHorizontalFlip).
struct hflip {
  static constexpr std::string_view kind = "hflip";
  static constexpr bool is_augmentation = true;
  double p = 0.5;
  constexpr const char* check() const {
    return p >= 0 && p <= 1 ? nullptr : "hflip: .p must be in [0, 1]";
  }
};

// A shift by a uniform random (dx, dy) in [−pixels, pixels]², the border replicated (the image's
// edge values fill what moves in, unlike random_crop's zeros).
struct translate {
  static constexpr std::string_view kind = "translate";
  static constexpr bool is_augmentation = true;
  int pixels = 2;
  constexpr const char* check() const {
    return pixels >= 0 ? nullptr : "translate: .pixels must be >= 0";
  }
};

// Brightness and contrast jitter (torchvision ColorJitter(brightness, contrast), in that order):
// x·b with b uniform in [1 − brightness, 1 + brightness], then (x − m)·c + m with m the sample's
// mean and c uniform in [1 − contrast, 1 + contrast]; values clamped to [0, 1] after each.
struct color_jitter {
  static constexpr std::string_view kind = "color_jitter";
  static constexpr bool is_augmentation = true;
  double brightness = 0.2;
  double contrast = 0.2;
  constexpr const char* check() const {
    if (!(brightness >= 0 && brightness <= 1)) return "color_jitter: .brightness must be in [0, 1]";
    if (!(contrast >= 0 && contrast <= 1)) return "color_jitter: .contrast must be in [0, 1]";
    return nullptr;
  }
};

}  // namespace kiln::dsl
