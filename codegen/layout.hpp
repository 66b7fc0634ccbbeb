// Everything about a model's memory that the compiler can work out: where each parameter
// tensor lives in the flat parameter arena (and each buffer in the buffer arena), how many
// floats each layer's output and scratch take per sample, its fixed scratch, and which layers
// need the gradient of their input. The same works for a residual block's body (a chain that
// starts from the shape Start instead of input<...>).
#pragma once

#include <array>
#include <cstddef>

#include "kiln/codegen/layers/layers.hpp"
#include "kiln/codegen/lower.hpp"
#include "kiln/codegen/rows.hpp"
#include "kiln/dsl/model.hpp"

namespace kiln::codegen {

template <auto Model, dsl::shape Start>
struct layout {
  static constexpr std::size_t layers = Model.size;
  static constexpr auto in = [] {
    if constexpr (Start.rank == 0)
      return dsl::in_shapes(Model);
    else
      return dsl::in_shapes(Model, Start);
  }();
  // The layers as the generated code runs them: with what depends on their place filled in
  // (stochastic depth's survival), and fused where an op can do its successor's work (lower.hpp).
  static constexpr auto lowered = lower<dsl::resolve(Model)>();

  template <std::size_t I>
  using op_at = op<dsl::at<I>(lowered), in[I]>;
  // Whether each layer's own output is stored (not for the first layers of a fused chain).
  static constexpr auto materialized = codegen::materialized<dsl::resolve(Model)>();

  // Per-layer tables, filled by one fold over the layers.
  static constexpr std::array<layer_row, layers> rows = [] {
    std::array<layer_row, layers> r{};
    std::size_t base = 0, buffer_base = 0;
    dsl::for_each_index<layers>([&]<std::size_t I>(dsl::index_c<I>) {
      r[I] = {base,
              param_offsets(dsl::at<I>(Model), in[I]).back(),
              dsl::param_count_of<std::remove_cvref_t<decltype(dsl::at<I>(Model))>>(),
              op_at<I>::out.size(),
              op_at<I>::aux,
              op_at<I>::view,
              aligned(work_of<op_at<I>>()),
              buffer_base,
              buffer_offsets(dsl::at<I>(Model), in[I]).back()};
      base += r[I].param_size;
      buffer_base += r[I].buffer_size;
    });
    return r;
  }();

  static constexpr std::size_t params = rows[layers - 1].param_base + rows[layers - 1].param_size;
  static constexpr std::size_t buffer_floats =
      rows[layers - 1].buffer_base + rows[layers - 1].buffer_size;
  static constexpr std::size_t work = [] {
    std::size_t w = 0;
    for (const auto& r : rows) w += r.work;
    return w;
  }();

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
  static constexpr std::size_t tensor_count = dsl::param_tensor_count(Model);
  static constexpr std::array<tensor_row, tensor_count> tensors = [] {
    std::array<tensor_row, tensor_count> t{};
    std::size_t k = 0;
    dsl::for_each_index<layers>([&]<std::size_t I>(dsl::index_c<I>) {
      const auto specs = dsl::params_of(dsl::at<I>(Model), in[I]);
      const auto offsets = param_offsets(dsl::at<I>(Model), in[I]);
      for (std::size_t j = 0; j < specs.size(); ++j)
        t[k++] = {I, specs[j], rows[I].param_base + offsets[j]};
    });
    return t;
  }();

  // Every buffer (running statistics), in declaration order, in the buffer arena.
  static constexpr std::size_t buffer_count = [] {
    return []<class... L>(const dsl::net<L...>&) {
      return (dsl::buffer_count_of<L>() + ... + 0);
    }(Model);
  }();
  static constexpr std::array<tensor_row, buffer_count> buffers = [] {
    std::array<tensor_row, buffer_count> t{};
    std::size_t k = 0;
    dsl::for_each_index<layers>([&]<std::size_t I>(dsl::index_c<I>) {
      const auto specs = dsl::buffers_of(dsl::at<I>(Model), in[I]);
      const auto offsets = buffer_offsets(dsl::at<I>(Model), in[I]);
      for (std::size_t j = 0; j < specs.size(); ++j)
        t[k++] = {I, specs[j], rows[I].buffer_base + offsets[j]};
    });
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
