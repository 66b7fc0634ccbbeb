// Lowering: the model as the generated code runs it. A conv2d directly followed by relu becomes
// one op, conv2d_relu, which applies the ReLU while its output is still in cache (forward: bias
// and max(·, 0) in one pass per sample; backward: the ReLU's mask applied to each sample's dy
// right before the GEMMs that read it), and the relu becomes `absorbed`, a view. This removes two
// full passes over the conv's output in each direction (measured on the peer CNN: ≈ 10 % of its
// epoch). Layer count, indices, shapes and parameter names are the model's: only ops change.
#pragma once

#include <tuple>
#include <type_traits>

#include "kiln/dsl/layers/activation.hpp"
#include "kiln/dsl/layers/conv.hpp"
#include "kiln/dsl/model.hpp"

namespace kiln::codegen {

// conv2d whose output goes through ReLU.
struct conv2d_relu {
  static constexpr std::string_view kind = "conv2d";
  dsl::conv2d conv;
};

// A layer whose work the op before it does (its output is that op's output).
struct absorbed {
  static constexpr std::string_view kind = "absorbed";
};

template <class A, class B>
inline constexpr bool fuses = std::is_same_v<A, dsl::conv2d>&& std::is_same_v<B, dsl::relu>;

// What layer J of L... becomes: 1 conv2d_relu, 2 absorbed, 0 itself.
template <std::size_t J, class... L>
constexpr int lowering() {
  using list = std::tuple<L...>;
  constexpr std::size_t n = sizeof...(L);
  using T = std::tuple_element_t<J, list>;
  if constexpr (J + 1 < n) {
    if (fuses<T, std::tuple_element_t<J + 1, list>>) return 1;
  }
  if constexpr (J > 0) {
    if (fuses<std::tuple_element_t<J - 1, list>, T>) return 2;
  }
  return 0;
}

template <std::size_t J, class... L>
constexpr auto lowered_layer(const dsl::net<L...>& m) {
  if constexpr (lowering<J, L...>() == 1)
    return conv2d_relu{dsl::at<J>(m)};
  else if constexpr (lowering<J, L...>() == 2)
    return absorbed{};
  else
    return dsl::at<J>(m);
}

template <class... L>
constexpr auto lower(const dsl::net<L...>& m) {
  return [&]<std::size_t... I>(std::index_sequence<I...>) {
    return dsl::net<decltype(lowered_layer<I>(m))...>{{{lowered_layer<I>(m)}...}};
  }
  (std::index_sequence_for<L...>{});
}

}  // namespace kiln::codegen
