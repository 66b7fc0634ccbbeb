// What the compiler knows about a model: the shape entering every layer, the parameter tensors,
// and whether the model is valid. The checks (one per layer kind, in each descriptor's check())
// are kept apart from the one place that reports them: report_model<Model>() below.
#pragma once

#include <array>
#include <cstddef>
#include <type_traits>

#include "kiln/dsl/core.hpp"

namespace kiln::dsl {

// The shape entering each layer: in_shapes(m)[i] is the input of layer i (the input layer gets
// its own shape). Computed without recursion: one left fold over the layers.
template <class... L>
constexpr std::array<shape, sizeof...(L)> in_shapes(const net<L...>& m) {
  std::array<shape, sizeof...(L)> in{};
  shape cur{};
  for_each_index<sizeof...(L)>([&]<std::size_t I>(index_c<I>) {
    in[I] = I == 0 ? at<I>(m).out(cur) : cur;
    cur = at<I>(m).out(in[I]);
  });
  return in;
}

// The same for a chain that starts from a given shape (the body of a residual block): in[0] is
// `start`, the input of the chain's first layer.
template <class... L>
constexpr std::array<shape, sizeof...(L)> in_shapes(const net<L...>& m, shape start) {
  std::array<shape, sizeof...(L)> in{};
  shape cur = start;
  for_each_index<sizeof...(L)>([&]<std::size_t I>(index_c<I>) {
    in[I] = cur;
    cur = at<I>(m).out(in[I]);
  });
  return in;
}

// What a chain starting from `start` produces.
template <class... L>
constexpr shape out_shape(const net<L...>& m, shape start) {
  if constexpr (sizeof...(L) == 0)
    return start;
  else
    return at<sizeof...(L) - 1>(m).out(in_shapes(m, start)[sizeof...(L) - 1]);
}

// The shape a model's last non-loss layer produces (what the loss sees).
template <class... L>
constexpr shape output_shape(const net<L...>& m) {
  return in_shapes(m)[sizeof...(L) - 1];
}

// ---------------------------------------------------------------------------------------------
// Validation. diag names the first offending layer; layer < 0 means the model is valid. When the
// problem is inside a block (residual), `inner` is the layer's index in the block's chain and
// `inner_in` the shape reaching it.

struct diag {
  int layer = -1;
  const char* problem = nullptr;
  shape in{};
  int inner = -1;
  shape inner_in{};
  constexpr bool ok() const { return layer < 0; }
};

template <class L>
inline constexpr bool is_input = std::is_same_v<L, input_layer>;

// Layers made of a chain of layers (residual blocks) expose it as `body`.
template <class L>
concept block_layer = requires(const L& l) {
  l.body;
};

template <class... L>
constexpr diag validate_chain(const net<L...>& m, shape start);

// One layer's problem with input `in` (the block's inside first), or an ok diag.
template <class L>
constexpr diag check_layer(const L& l, int index, shape in) {
  if constexpr (block_layer<L>) {
    const diag inside = validate_chain(l.body, in);
    if (!inside.ok()) return {index, inside.problem, in, inside.layer, inside.in};
  }
  if (const char* problem = l.check(in)) return {index, problem, in};
  return {};
}

// A block's chain: every layer checked from `start`; no input or loss inside.
template <class... L>
constexpr diag validate_chain(const net<L...>& m, shape start) {
  const auto in = in_shapes(m, start);
  diag d{};
  auto visit = [&]<std::size_t I>(index_c<I>) {
    using T = std::remove_cvref_t<decltype(at<I>(m))>;
    if constexpr (is_input<T>)
      d = {int(I), "input<...> cannot be inside a block", in[I]};
    else if constexpr (loss<T>)
      d = {int(I), "a loss cannot be inside a block", in[I]};
    else
      d = check_layer(at<I>(m), int(I), in[I]);
    return d.ok();
  };
  all_index<sizeof...(L)>(visit);  // stops at the first problem
  return d;
}

template <class... L>
constexpr diag validate(const net<L...>& m) {
  constexpr std::size_t n = sizeof...(L);
  if constexpr (n < 2) {
    return {0, "a model needs at least input<...> and a loss", {}};
  } else {
    const auto in = in_shapes(m);
    diag d{};
    auto visit = [&]<std::size_t I>(index_c<I>) {
      using T = std::remove_cvref_t<decltype(at<I>(m))>;
      const char* problem = nullptr;
      if constexpr (I == 0 && !is_input<T>)
        problem = "the model must start with input<...>";
      else if constexpr (I > 0 && is_input<T>)
        problem = "input<...> may only be the first layer";
      else if constexpr (I + 1 == n && !loss<T>)
        problem = "the model must end with a loss: softmax_cross_entropy{} or mse{}";
      else if constexpr (I + 1 < n && loss<T>)
        problem = "a loss may only be the last layer";
      if (problem)
        d = {int(I), problem, in[I]};
      else
        d = check_layer(at<I>(m), int(I), in[I]);
      return d.ok();
    };
    all_index<n>(visit);  // stops at the first problem
    return d;
  }
}

// ---------------------------------------------------------------------------------------------
// Resolution: properties that depend on a layer's place in the model. A layer with
// `depth_ordered` (a residual block with stochastic depth) gets its position k (1-based) among
// the chain's such layers and their count through `at_depth(k, count)`.

template <class L>
concept depth_ordered = requires(const L& l) {
  l.at_depth(1, 1);
};

template <class... L>
constexpr net<L...> resolve(const net<L...>& m) {
  constexpr int count = (int(depth_ordered<L>) + ... + 0);
  net<L...> r = m;
  int k = 0;
  for_each_index<sizeof...(L)>([&]<std::size_t I>(index_c<I>) {
    using T = std::remove_cvref_t<decltype(at<I>(m))>;
    if constexpr (depth_ordered<T>) {
      T& l = static_cast<slot<I, T>&>(r).value;
      l = l.at_depth(++k, count);
    }
  });
  return r;
}

// ---------------------------------------------------------------------------------------------
// Parameters: every tensor of every layer, in declaration order.

template <class... L>
constexpr std::size_t param_tensor_count(const net<L...>&) {
  return (param_count_of<L>() + ... + 0);
}

template <class L>
constexpr auto params_of(const L& l, shape in) {
  if constexpr (param_count_of<L>() > 0)
    return l.params(in);
  else
    return std::array<param, 0>{};
}

template <class L>
constexpr auto buffers_of(const L& l, shape in) {
  if constexpr (buffer_count_of<L>() > 0)
    return l.buffers(in);
  else
    return std::array<param, 0>{};
}

// Number of learnable floats in the model.
template <class... L>
constexpr long param_count(const net<L...>& m) {
  const auto in = in_shapes(m);
  long total = 0;
  for_each_index<sizeof...(L)>([&]<std::size_t I>(index_c<I>) {
    for (const param& p : params_of(at<I>(m), in[I])) total += p.dims.size();
  });
  return total;
}

// ---------------------------------------------------------------------------------------------
// Reporting: one static_assert for every model error. GCC and Clang print the template
// arguments of `invalid_layer` in one note: the layer's index, its descriptor (with the user's
// values), the shape that reaches it, and the problem.

struct text_t {
  static constexpr std::size_t capacity = 96;
  char s[capacity]{};
  constexpr explicit text_t(const char* p) {
    for (std::size_t i = 0; p && p[i] && i + 1 < capacity; ++i) s[i] = p[i];
  }
};

template <int Layer, auto Descriptor, shape Input, text_t Problem>
inline constexpr bool invalid_layer = false;

// A problem inside a block: the block's index in the model, the layer's index in the block's
// chain, that layer's descriptor, the shape reaching it and the problem.
template <int Layer, int Inner, auto Descriptor, shape Input, text_t Problem>
inline constexpr bool invalid_layer_in_block = false;

template <auto Model>
constexpr bool report_model() {
  constexpr diag d = validate(Model);
  if constexpr (!d.ok()) {
    constexpr auto bad = at<std::size_t(d.layer)>(Model);
    if constexpr (d.inner >= 0) {
      if constexpr (block_layer<decltype(bad)>) {
        constexpr auto inner = at<std::size_t(d.inner)>(bad.body);
        static_assert(
            invalid_layer_in_block<d.layer, d.inner, inner, d.inner_in, text_t(d.problem)>,
            "kiln: invalid model (the note names the block, the layer inside it, its "
            "input shape and the problem)");
      }
    } else {
      static_assert(
          invalid_layer<d.layer, bad, d.in, text_t(d.problem)>,
          "kiln: invalid model (the note names the layer, its input shape and the problem)");
    }
  }
  return d.ok();
}

}  // namespace kiln::dsl
