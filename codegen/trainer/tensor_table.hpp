// A generated trainer as the runtime sees it: what it consumes and produces (rt::model_info),
// every tensor by name (parameters, optimizer state, step counts, the moving average, buffers),
// each layer's name and output shape, and the fingerprint that ties a checkpoint to (Model,
// Plan). Names are the DSL's .name or the position, as PyTorch's nn.Sequential numbers layers.
// The template only gathers what the compiler knows into constant tables; the table itself is
// built by table_base, compiled once (tensor_table.cpp) rather than once per model.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "kiln/codegen/rows.hpp"
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

// What the table needs to know of one layer.
struct layer_entry {
  std::string_view kind;  // the descriptor's kind: "dense", "conv2d", ...
  dsl::name_t name;       // the DSL's .name; empty: named by its position
  dsl::shape in, out;     // one sample's
};

// The arenas the table's tensors are views of (arena.hpp), and the optimizer's state names.
struct table_arenas {
  float* params = nullptr;
  std::span<float* const> states;                 // one per optimizer state vector
  std::span<const std::string_view> state_names;  // "momentum_buffer", "exp_avg", ...
  float* steps = nullptr;                         // one float per parameter tensor
  float* average = nullptr;                       // the moving average, or nullptr
  float* buffers = nullptr;
};

// Everything of the table that does not depend on the model's type.
class table_base {
 public:
  const rt::model_info& info() const { return info_; }
  std::span<const rt::tensor> tensors() const { return tensors_; }
  const std::string& name(std::size_t layer) const { return names_[layer]; }

  // A parameter or state tensor by name ("fc1.weight", "fc1.weight.momentum_buffer",
  // "fc1.weight.step").
  std::span<float> tensor(std::string_view name) const;

  // The index of the layer named `name` (its .name or position), among those after the input
  // and before the loss.
  std::size_t layer_index(std::string_view name) const;

  // The shape of one sample of layer i's output, and its floats.
  dsl::shape out_shape(std::size_t i) const { return out_shape_[i]; }
  std::size_t out_size(std::size_t i) const { return std::size_t(out_shape_[i].size()); }

 protected:
  // Names the layers and lists every tensor (parameters, optimizer state, step counts, the
  // moving average, buffers) as views of the arenas; info_ gets the layers' summary.
  void describe(std::span<const layer_entry> layers, std::span<const tensor_row> params,
                std::span<const tensor_row> buffers, const table_arenas& a);

  rt::model_info info_;

 private:
  std::vector<rt::tensor> tensors_;
  std::vector<std::string> names_;
  std::vector<dsl::shape> out_shape_;
};

template <class T>  // trainer_traits<Model, Plan>
class tensor_table : public table_base {
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
    if constexpr (requires { Plan.lr.cycle_epochs; }) {
      info_.snapshot_epochs = Plan.ensemble.snapshots ? Plan.lr.cycle_epochs : 0;
      info_.snapshot_first = Plan.ensemble.snapshots ? Plan.lr.first_cycle() : 0;
    }
    info_.averaged = T::averaged;
    info_.full_batch = T::full_batch;
    table_base::describe(
        layers, lay::tensors, lay::buffers,
        {a.p, {a.s, std::size_t(T::S)}, state_names, a.step, T::averaged ? a.ema : nullptr, a.b});
  }

  // Identifies (Model, Plan) as the compiler spells them: a checkpoint loads only into the
  // trainer generated for the same declaration.
  static std::string fingerprint() {
    char hex[17];
    std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(declaration_hash));
    return hex;
  }

 private:
  static constexpr std::array<layer_entry, L> layers = [] {
    std::array<layer_entry, L> r{};
    dsl::for_each_index<L>([&]<std::size_t I>(dsl::index_c<I>) {
      const auto& layer = dsl::at<I>(Model);
      r[I].kind = layer.kind;
      if constexpr (requires { layer.name; }) r[I].name = layer.name;
      r[I].in = lay::in[I];
      r[I].out = layer.out(lay::in[I]);
    });
    return r;
  }();
  static constexpr std::array<std::string_view, T::S> state_names = [] {
    std::array<std::string_view, T::S> r{};
    if constexpr (T::S > 0)  // optimizers without state (sgd, the full-batch ones) name none
      for (int k = 0; k < T::S; ++k) r[std::size_t(k)] = T::opt.state_name(k);
    return r;
  }();

  static constexpr std::uint64_t declaration_hash = [] {
    std::uint64_t h = 14695981039346656037ull;  // FNV-1a over the compiler's spelling
    for (const char c : declaration<Model, Plan>())
      h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ull;
    return h;
  }();
};

}  // namespace kiln::codegen
