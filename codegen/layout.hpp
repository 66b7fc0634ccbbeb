// Everything about a model's memory that the compiler can work out: where each parameter
// tensor lives in the flat parameter arena, how many floats each layer's output and scratch
// take per sample, and which layers need the gradient of their input.
#pragma once

#include <array>
#include <cstddef>

#include "kiln/codegen/layers/layers.hpp"
#include "kiln/dsl/model.hpp"

namespace kiln::codegen {

template <auto Model>
struct layout {
  static constexpr std::size_t layers = Model.size;
  static constexpr auto in = dsl::in_shapes(Model);

  template <std::size_t I>
  using op_at = op<dsl::at<I>(Model), in[I]>;

  // Per-layer tables, filled by one fold over the layers.
  struct layer_row {
    std::size_t param_base = 0;  // offset of the layer's first parameter
    std::size_t param_size = 0;  // aligned floats of all its parameters
    std::size_t tensors = 0;     // number of parameter tensors
    int out = 0;                 // floats per sample of its output
    int aux = 0;                 // floats per sample of its scratch
    bool view = false;           // output aliases input
  };
  static constexpr std::array<layer_row, layers> rows = [] {
    std::array<layer_row, layers> r{};
    std::size_t base = 0;
    [&]<std::size_t... I>(std::index_sequence<I...>) {
      ((r[I] = {base, param_offsets(dsl::at<I>(Model), in[I]).back(),
                dsl::param_count_of<std::remove_cvref_t<decltype(dsl::at<I>(Model))>>(),
                op_at<I>::out.size(), op_at<I>::aux, op_at<I>::view},
        base += r[I].param_size),
       ...);
    }
    (dsl::index_for<layers>{});
    return r;
  }();

  static constexpr std::size_t params = rows[layers - 1].param_base + rows[layers - 1].param_size;

  // A layer computes dx only if a layer before it has parameters to train.
  static constexpr std::array<bool, layers> needs_dx = [] {
    std::array<bool, layers> r{};
    bool before = false;
    for (std::size_t i = 0; i < layers; ++i) {
      r[i] = before;
      before = before || rows[i].tensors > 0;
    }
    return r;
  }();

  // Every parameter tensor, in declaration order.
  struct tensor_row {
    std::size_t layer = 0;
    dsl::param spec{};
    std::size_t offset = 0;  // in the parameter arena
  };
  static constexpr std::size_t tensor_count = dsl::param_tensor_count(Model);
  static constexpr std::array<tensor_row, tensor_count> tensors = [] {
    std::array<tensor_row, tensor_count> t{};
    std::size_t k = 0;
    [&]<std::size_t... I>(std::index_sequence<I...>) {
      auto add = [&](std::size_t layer, const auto& specs, const auto& offsets) {
        for (std::size_t j = 0; j < specs.size(); ++j)
          t[k++] = {layer, specs[j], rows[layer].param_base + offsets[j]};
      };
      (add(I, dsl::params_of(dsl::at<I>(Model), in[I]), param_offsets(dsl::at<I>(Model), in[I])),
       ...);
    }
    (dsl::index_for<layers>{});
    return t;
  }();

  // Widest per-sample activation (input included): the size of each gradient buffer.
  static constexpr int widest = [] {
    int w = 0;
    for (const auto& r : rows) w = r.out > w ? r.out : w;
    return w;
  }();
};

}  // namespace kiln::codegen
