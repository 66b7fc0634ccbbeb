// A plan's regularizers: none, one, or several composed with `+` (l2{5e-4} + l1{1e-6} is an
// elastic net). The generated update applies them in the order written, in the same pass.
#pragma once

#include <concepts>
#include <string_view>

#include "kiln/dsl/core.hpp"

namespace kiln::dsl {

template <class R>
concept regularizer = requires(const R& r) {
  { R::kind } -> std::convertible_to<std::string_view>;
  { r.check() } -> std::same_as<const char*>;
};

// A list of regularizers (structural, flat).
template <regularizer... R>
struct regs : slots<std::index_sequence_for<R...>, R...> {
  static constexpr std::size_t size = sizeof...(R);
};

using no_regularizer = regs<>;

template <regularizer... A, regularizer B>
constexpr regs<A..., B> operator+(const regs<A...>& a, const B& b) {
  return [&]<std::size_t... I>(std::index_sequence<I...>) {
    return regs<A..., B>{{{at<I>(a)}..., {b}}};
  }
  (std::index_sequence_for<A...>{});
}

template <regularizer A, regularizer B>
constexpr regs<A, B> operator+(const A& a, const B& b) {
  return regs<A, B>{{{a}, {b}}};
}

// Any single regularizer, or a list, as a list.
template <regularizer R>
constexpr regs<R> as_regs(const R& r) {
  return regs<R>{{{r}}};
}
template <regularizer... R>
constexpr regs<R...> as_regs(const regs<R...>& r) {
  return r;
}

}  // namespace kiln::dsl
