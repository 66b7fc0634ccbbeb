// A generated trainer as the runtime sees it: what it consumes and produces (rt::model_info),
// every tensor by name (parameters, optimizer state, step counts, the moving average, buffers),
// each layer's name and output shape, and the fingerprint that ties a checkpoint to (Model,
// Plan). Names are the DSL's .name or the position, as PyTorch's nn.Sequential numbers layers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "kiln/codegen/trainer/arena.hpp"
#include "kiln/core/error.hpp"
#include "kiln/dsl/layers/loss.hpp"
#include "kiln/runtime/model.hpp"

namespace kiln::codegen {

std::string to_string(const dsl::shape& s);

// The model and plan as the compiler spells them (values included): what a fingerprint hashes.
template <auto Model, auto Plan>
constexpr std::string_view declaration() {
  return __PRETTY_FUNCTION__;
}

template <class T>  // trainer_traits<Model, Plan>
class tensor_table {
  using lay = typename T::lay;
  static constexpr std::size_t L = T::L;
  static constexpr auto Model = T::model;
  static constexpr auto Plan = T::plan;

 public:
  // Fills the table for the memory of `a` (which must not move afterwards: the tensors are
  // views of it) and a trainer built for batches of `batch` samples.
  void describe(const arena<T>& a, int batch, std::uint64_t seed) {
    const dsl::shape input = lay::in[0];
    info_.input.assign(input.d, input.d + input.rank);
    info_.outputs = lay::in[L - 1].size();
    info_.kind = std::is_same_v<std::remove_cvref_t<decltype(dsl::at<L - 1>(Model))>,
                                dsl::softmax_cross_entropy>
                     ? rt::task::classify
                     : rt::task::regress;
    info_.batch = batch;
    info_.epochs = Plan.epochs;
    info_.seed = seed;
    info_.members = Plan.ensemble.members;
    info_.vote = Plan.ensemble.vote;
    if constexpr (requires { Plan.lr.cycle_epochs; })
      info_.snapshot_epochs = Plan.ensemble.snapshots ? Plan.lr.cycle_epochs : 0;
    info_.averaged = T::averaged;
    info_.full_batch = T::full_batch;
    std::vector<std::string>& names = names_;
    names.resize(L);
    dsl::for_each_index<L>([&]<std::size_t I>(dsl::index_c<I>) {
      names[I] = layer_name<I>();
      out_shape_[I] = dsl::at<I>(Model).out(lay::in[I]);
      out_size_[I] = out_shape_[I].size();
      info_.summary += std::to_string(I) + " " + std::string(dsl::at<I>(Model).kind) +
                       (names[I].empty() ? "" : " '" + names[I] + "'") + ": " +
                       to_string(lay::in[I]) + " -> " +
                       to_string(dsl::at<I>(Model).out(lay::in[I])) + "\n";
    });
    auto dims = [](const dsl::shape& s) { return std::vector<int>(s.d, s.d + s.rank); };
    // Named by the DSL (or position), and as an nn.Sequential of the same layers would name it.
    auto add = [&](const auto& t, std::string suffix, float* base, rt::tensor_role role) {
      const auto n = std::size_t(t.spec.dims.size());
      const std::string position = std::to_string(t.layer - 1) + "." + suffix;
      tensors_.push_back(
          {names[t.layer] + "." + suffix, dims(t.spec.dims), {base + t.offset, n}, role, position});
    };
    for (const auto& t : lay::tensors)
      add(t, std::string(t.spec.name.view()), a.p, rt::tensor_role::param);
    if constexpr (T::S > 0)
      for (int k = 0; k < T::S; ++k)
        for (const auto& t : lay::tensors)
          add(t, std::string(t.spec.name.view()) + "." + std::string(T::opt.state_name(k)), a.s[k],
              rt::tensor_role::state);
    // Each tensor's step count, a float32 scalar like PyTorch's state["step"].
    for (std::size_t i = 0; i < lay::tensor_count; ++i) {
      const auto& t = lay::tensors[i];
      const std::string suffix = std::string(t.spec.name.view()) + ".step";
      tensors_.push_back({names[t.layer] + "." + suffix,
                          {},
                          {a.step + i, 1},
                          rt::tensor_role::state,
                          std::to_string(t.layer - 1) + "." + suffix});
    }
    // The moving average is state too: checkpoints keep it, weight imports leave it.
    if constexpr (T::averaged)
      for (const auto& t : lay::tensors)
        add(t, std::string(t.spec.name.view()) + ".ema", a.ema, rt::tensor_role::state);
    for (const auto& t : lay::buffers)
      add(t, std::string(t.spec.name.view()), a.b, rt::tensor_role::buffer);
  }

  const rt::model_info& info() const { return info_; }
  std::span<const rt::tensor> tensors() const { return tensors_; }
  const std::string& name(std::size_t layer) const { return names_[layer]; }

  // A parameter or state tensor by name ("fc1.weight", "fc1.weight.momentum_buffer",
  // "fc1.weight.step").
  std::span<float> tensor(std::string_view name) const {
    for (auto& t : tensors_)
      if (t.name == name) return t.data;
    throw config_error("tensor", "no tensor named '" + std::string(name) + "'");
  }

  // The index of the layer named `name` (its .name or position), among those after the input
  // and before the loss.
  std::size_t layer_index(std::string_view name) const {
    for (std::size_t i = 1; i + 1 < L; ++i)
      if (names_[i] == name || std::to_string(i - 1) == name) return i;
    std::string known;
    for (std::size_t i = 1; i + 1 < L; ++i) known += (known.empty() ? "" : ", ") + names_[i];
    throw config_error("layer",
                       "no layer named '" + std::string(name) + "' (the layers: " + known + ")");
  }

  // The shape of one sample of layer i's output, and its floats.
  dsl::shape out_shape(std::size_t i) const { return out_shape_[i]; }
  std::size_t out_size(std::size_t i) const { return out_size_[i]; }

  // Identifies (Model, Plan) as the compiler spells them: a checkpoint loads only into the
  // trainer generated for the same declaration.
  static std::string fingerprint() {
    char hex[17];
    std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(declaration_hash));
    return hex;
  }

 private:
  static constexpr std::uint64_t declaration_hash = [] {
    std::uint64_t h = 14695981039346656037ull;  // FNV-1a over the compiler's spelling
    for (const char c : declaration<Model, Plan>())
      h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ull;
    return h;
  }();

  // The DSL's .name when given, else the layer's position as PyTorch's nn.Sequential numbers it
  // (the input layer is not a module: the first layer after it is "0").
  template <std::size_t I>
  static std::string layer_name() {
    if constexpr (I == 0) {
      return "input";
    } else if constexpr (requires { dsl::at<I>(Model).name; }) {
      if (!dsl::at<I>(Model).name.empty()) return std::string(dsl::at<I>(Model).name.view());
      return std::to_string(I - 1);
    } else {
      return std::to_string(I - 1);
    }
  }

  rt::model_info info_;
  std::vector<rt::tensor> tensors_;
  std::vector<std::string> names_;
  dsl::shape out_shape_[L]{};
  std::size_t out_size_[L]{};
};

inline std::string to_string(const dsl::shape& s) {
  std::string r = "{";
  for (int i = 0; i < s.rank; ++i) r += (i ? ", " : "") + std::to_string(s.d[i]);
  return r + "}";
}

}  // namespace kiln::codegen
