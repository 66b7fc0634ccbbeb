// A plan's regularizers: none, one, or several composed with `+` (l2{5e-4} + l1{1e-6} is an
// elastic net). Whatever the order written, each acts in its phase of the one fused pass:
// gradient clipping, then penalty terms, then the optimizer's step, then constraints.
#pragma once

#include <concepts>
#include <string_view>
#include <type_traits>

#include "kiln/dsl/core.hpp"

namespace kiln::dsl {

// When a regularizer acts in the fused update, and on which tensors.
enum class phase {
  clip,     // rescales the loss gradient, as torch.nn.utils.clip_grad_* before step(); every tensor
  penalty,  // adds a term to the gradient; tensors that take decay (weights, by default)
  constraint,  // changes the weights after the step; weight tensors with rows (rank >= 2)
};

template <class R>
concept regularizer = requires(const R& r) {
  { R::kind } -> std::convertible_to<std::string_view>;
  { R::when } -> std::convertible_to<phase>;
  { r.check() } -> std::same_as<const char*>;
};

// A penalty with a norm adds the gradient of λ/p·‖w‖ₚᵖ (p = 2: λ·w; p = 1: λ·sign(w)) and says
// which norm: `static constexpr int norm = 1;` (l1), 2 (l2). Full-batch plans minimize the loss
// plus these terms, so they take only such penalties.
template <class R>
concept norm_penalty = regularizer<R> && R::when == phase::penalty&& requires {
  { R::norm } -> std::convertible_to<int>;
};

// A list of regularizers (structural, flat).
template <regularizer... R>
struct regs : slots<std::index_sequence_for<R...>, R...> {
  static constexpr std::size_t size = sizeof...(R);

  // How many act in phase `p`; whether one needs the norm of every gradient (clip_norm).
  static constexpr int count(phase p) { return ((R::when == p) + ... + 0); }
  static constexpr bool global = (requires { R::global; } || ...);

  // How many of the list are of type X.
  template <class X>
  static constexpr int copies = (int(std::is_same_v<X, R>) + ... + 0);

  // Each kind (type) at most once; one way of clipping.
  static constexpr const char* check() {
    if (((copies < R >> 1) || ... || false))
      return "regularizers: each kind may appear once in a plan";
    if (count(phase::clip) > 1) return "regularizers: clip by value or by norm, not both";
    return nullptr;
  }
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
