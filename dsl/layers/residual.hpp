// residual: y = x + f(x), where f is a chain of layers built like a model:
//   residual{chain | conv2d{.filters = 16, .kernel = 3, .pad = 1} | batch_norm{} | relu{}
//                  | conv2d{.filters = 16, .kernel = 3, .pad = 1} | batch_norm{}}
// The chain must give back the shape it receives. Its tensors are named "<block>.<i>.<tensor>"
// (i: position in the chain, or the inner layer's .name), as a PyTorch nn.Sequential subclass
// whose forward adds the input would name them.
//
// With .depth = stochastic_depth{.p_last} (Huang et al. 2016, "Deep networks with stochastic
// depth"): in training the whole f(x) of a batch is skipped with probability 1 − p_k, where the
// survival probability decays linearly with the block's position k among the K residual blocks
// of its chain: p_k = 1 − k/K·(1 − p_last) (p_last: the deepest block's). At evaluation every
// block runs and its f(x) is scaled by p_k: y = x + p_k·f(x), the expected training output.
#pragma once

#include <array>

#include "kiln/dsl/core.hpp"
#include "kiln/dsl/model.hpp"

namespace kiln::dsl {

struct no_stochastic_depth {
  constexpr double survival_at(int, int) const { return 1; }
  constexpr const char* check() const { return nullptr; }
};

struct stochastic_depth {
  double p_last = 0.5;  // survival probability of the deepest block (Huang et al.'s p_L)

  constexpr double survival_at(int k, int count) const {
    return 1 - double(k) / double(count) * (1 - p_last);
  }
  constexpr const char* check() const {
    return p_last > 0 && p_last <= 1 ? nullptr : "stochastic_depth: .p_last must be in (0, 1]";
  }
};

// "<a>.<b>", cut to name_t's capacity.
constexpr name_t join_name(std::string_view a, std::string_view b) {
  char s[name_t::capacity]{};
  std::size_t n = 0;
  for (char ch : a)
    if (n + 1 < name_t::capacity) s[n++] = ch;
  if (n + 1 < name_t::capacity) s[n++] = '.';
  for (char ch : b)
    if (n + 1 < name_t::capacity) s[n++] = ch;
  return name_t(std::string_view(s, n));
}

constexpr name_t number_name(int i) {
  char s[12]{};
  int n = 0;
  do s[n++] = char('0' + i % 10), i /= 10;
  while (i > 0);
  for (int a = 0, b = n - 1; a < b; ++a, --b) {
    const char t = s[a];
    s[a] = s[b], s[b] = t;
  }
  return name_t(std::string_view(s, std::size_t(n)));
}

// An inner layer's name in its chain: its .name, else its position.
template <class L>
constexpr name_t chain_name(const L& l, int i) {
  if constexpr (requires { l.name; })
    if (!l.name.empty()) return l.name;
  return number_name(i);
}

template <class Body, class Depth = no_stochastic_depth>
struct residual {
  static constexpr std::string_view kind = "residual";
  static constexpr std::size_t n_params = param_tensor_count(Body{});
  static constexpr std::size_t n_buffers = [] {
    return []<class... L>(const net<L...>&) { return (buffer_count_of<L>() + ... + 0); }(Body{});
  }();

  Body body;
  Depth depth{};
  name_t name{};
  double survival = 1;  // p_k, filled in when the model is compiled (resolve())

  constexpr shape out(shape in) const { return in; }
  constexpr const char* check(shape in) const {
    if (const char* p = depth.check()) return p;
    if (Body::size == 0) return "residual: the block is empty";
    if (!(out_shape(body, in) == in))
      return "residual: the block must output the shape it receives (the skip path adds them)";
    return nullptr;
  }
  constexpr residual at_depth(int k, int count) const {
    residual r = *this;
    r.survival = depth.survival_at(k, count);
    return r;
  }

  constexpr std::array<param, n_params> params(shape in) const { return gather<false>(in); }
  constexpr std::array<param, n_buffers> buffers(shape in) const { return gather<true>(in); }

 private:
  // The inner layers' tensors in order, renamed "<i>.<tensor>".
  template <bool Buffers>
  constexpr auto gather(shape in) const {
    std::array<param, Buffers ? n_buffers : n_params> all{};
    const auto ins = in_shapes(body, in);
    std::size_t k = 0;
    for_each_index<Body::size>([&]<std::size_t I>(index_c<I>) {
      const auto& layer = at<I>(body);
      auto rename = [&](param p) {
        p.name = join_name(chain_name(layer, int(I)).view(), p.name.view());
        all[k++] = p;
      };
      if constexpr (Buffers)
        for (const param& p : buffers_of(layer, ins[I])) rename(p);
      else
        for (const param& p : params_of(layer, ins[I])) rename(p);
    });
    return all;
  }
};

template <class T>
inline constexpr bool is_residual = false;
template <class Body, class Depth>
inline constexpr bool is_residual<residual<Body, Depth>> = true;

}  // namespace kiln::dsl
