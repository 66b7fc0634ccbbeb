// The vocabulary every descriptor uses: names, shapes, the structural list a model is made of,
// and `operator|` that builds it. Description only: nothing here computes a network.
#pragma once

#include <array>
#include <concepts>
#include <cstddef>
#include <string_view>
#include <utility>

namespace kiln::dsl {

// A fixed-capacity string usable inside template arguments (a `const char*` cannot be).
struct name_t {
  static constexpr std::size_t capacity = 32;
  char s[capacity]{};

  constexpr name_t() = default;
  template <std::size_t N>
  constexpr name_t(const char (&text)[N]) {  // NOLINT: implicit from a literal, on purpose
    static_assert(N <= capacity, "kiln: a name has at most 31 characters");
    for (std::size_t i = 0; i < N; ++i) s[i] = text[i];
  }
  constexpr explicit name_t(std::string_view text) {
    for (std::size_t i = 0; i < text.size() && i + 1 < capacity; ++i) s[i] = text[i];
  }
  constexpr bool empty() const { return s[0] == '\0'; }
  constexpr std::string_view view() const {
    std::size_t n = 0;
    while (n < capacity && s[n] != '\0') ++n;
    return {s, n};
  }
  friend constexpr bool operator==(const name_t&, const name_t&) = default;
};

// The shape of one sample between layers, or of one parameter tensor.
// Activations: rank 1 {features} or rank 3 {channels, height, width}.
// Parameters: PyTorch layouts, e.g. Linear weight rank 2 {out, in}.
struct shape {
  int rank = 0;
  int d[4]{};

  // Rank 0 is a scalar (one value), as a 0-d tensor in PyTorch (num_batches_tracked).
  constexpr int size() const {
    int n = 1;
    for (int i = 0; i < rank; ++i) n *= d[i];
    return n;
  }
  constexpr bool flat() const { return rank == 1; }
  constexpr int channels() const { return d[0]; }
  constexpr int height() const { return rank == 3 ? d[1] : 1; }
  constexpr int width() const { return rank == 3 ? d[2] : 1; }
  friend constexpr bool operator==(const shape&, const shape&) = default;
};

constexpr shape vec(int n) { return {1, {n}}; }
constexpr shape image(int c, int h, int w) { return {3, {c, h, w}}; }
constexpr shape matrix(int rows, int cols) { return {2, {rows, cols}}; }

// How a parameter tensor starts. `fan_in_uniform` is PyTorch's default for Linear and Conv2d
// (kaiming_uniform with a = sqrt(5) for weights, U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for biases:
// the same bound), so a kiln model starts from the distribution its PyTorch twin would.
enum class init { zeros, ones, fan_in_uniform };

// One parameter tensor a layer declares (also used for buffers: non-learned state such as
// batch-norm running statistics, declared by `n_buffers` + `buffers(shape)`).
struct param {
  name_t name;  // suffix after the layer's name: "weight", "bias"
  shape dims;
  init start = init::zeros;
  int fan_in = 1;
  bool decay = true;  // regularizers apply (weights) or not (biases, normalization scales)
};

// ---------------------------------------------------------------------------------------------
// A flat heterogeneous list that is a structural type (std::tuple is not): one base per element,
// indexed by position. No recursion: the bases are expanded from an index sequence.

template <std::size_t I, class T>
struct slot {
  T value;
};

template <class Indices, class... T>
struct slots;
template <std::size_t... I, class... T>
struct slots<std::index_sequence<I...>, T...> : slot<I, T>... {};

template <std::size_t I, class T>
constexpr const T& at(const slot<I, T>& s) {
  return s.value;
}

// A model (or a block inside one): layers in order. Built with `|`.
template <class... L>
struct net : slots<std::index_sequence_for<L...>, L...> {
  static constexpr std::size_t size = sizeof...(L);
};

template <std::size_t N>
using index_for = std::make_index_sequence<N>;
template <std::size_t I>
using index_c = std::integral_constant<std::size_t, I>;

// The one fold over a structural list (the model, a block's body, the regularizer sum, the
// augmentation chain): f(index_c<I>{}) for I = 0 … N-1, in order. for_each_index calls every
// one; all_index and any_index stop at the first false / true. f is usually
// `[&]<std::size_t I>(index_c<I>) { … at<I>(list) … }`.
template <std::size_t N, class F>
constexpr void for_each_index(F&& f) {
  [&]<std::size_t... I>(std::index_sequence<I...>) { (f(index_c<I>{}), ...); }
  (index_for<N>{});
}
template <std::size_t N, class F>
constexpr bool all_index(F&& f) {
  return [&]<std::size_t... I>(std::index_sequence<I...>) {
    return (f(index_c<I>{}) && ... && true);
  }
  (index_for<N>{});
}
template <std::size_t N, class F>
constexpr bool any_index(F&& f) {
  return [&]<std::size_t... I>(std::index_sequence<I...>) {
    return (f(index_c<I>{}) || ... || false);
  }
  (index_for<N>{});
}

// ---------------------------------------------------------------------------------------------
// Concepts: what makes a type a layer, a loss, a parameterized layer.

template <class L>
concept layer = requires(const L& l, shape s) {
  { L::kind } -> std::convertible_to<std::string_view>;
  { l.out(s) } -> std::same_as<shape>;
  { l.check(s) } -> std::same_as<const char*>;  // nullptr when the layer accepts `s`
};

template <class L>
concept loss = layer<L> && L::is_loss;

// A layer that draws at random in training (masks, regions) says so:
//   static constexpr bool draws_at_random = true;
// Full-batch solvers refuse such layers (their objective must not change between evaluations).
template <class L>
concept random_layer = requires {
  requires L::draws_at_random;
};

// Layers that own parameters declare them; others own none.
template <class L>
constexpr std::size_t param_count_of() {
  if constexpr (requires { L::n_params; })
    return L::n_params;
  else
    return 0;
}

// Layers with non-learned state (running statistics) declare it like parameters.
template <class L>
constexpr std::size_t buffer_count_of() {
  if constexpr (requires { L::n_buffers; })
    return L::n_buffers;
  else
    return 0;
}

// ---------------------------------------------------------------------------------------------
// The input layer: `input<1, 28, 28>` (an image) or `input<784>` (a vector).

struct input_layer {
  static constexpr std::string_view kind = "input";
  shape dims;
  constexpr shape out(shape) const { return dims; }
  constexpr const char* check(shape) const {
    for (int i = 0; i < dims.rank; ++i)
      if (dims.d[i] <= 0) return "input: every dimension must be positive";
    return nullptr;
  }
};

template <int... D>
requires(sizeof...(D) == 1 || sizeof...(D) == 3) inline constexpr net<input_layer> input{
    {{input_layer{shape{int(sizeof...(D)), {D...}}}}}};

// An empty chain, to start a block: `chain | conv2d{...} | relu{}`.
inline constexpr net<> chain{};

// ---------------------------------------------------------------------------------------------
// `model | layer` appends; `model | block` (another net) concatenates.

template <class... A, class... B, std::size_t... I, std::size_t... J>
constexpr net<A..., B...> join(const net<A...>& a, const net<B...>& b, std::index_sequence<I...>,
                               std::index_sequence<J...>) {
  return net<A..., B...>{{{at<I>(a)}..., {at<J>(b)}...}};
}

template <class... A, class... B>
constexpr net<A..., B...> operator|(const net<A...>& a, const net<B...>& b) {
  return join(a, b, std::index_sequence_for<A...>{}, std::index_sequence_for<B...>{});
}

template <class... A, layer L>
constexpr net<A..., L> operator|(const net<A...>& a, const L& l) {
  return a | net<L>{{{l}}};
}

}  // namespace kiln::dsl
