// A generated trainer as an ONNX graph: every layer's to_onnx (codegen/layers/onnx.hpp) in
// order, from the tensor named `input`, with the layer's name and its parameters and buffers in
// the arena; the loss adds nothing. Returns the name of the last layer's output (the logits).
#pragma once

#include <array>
#include <cstddef>
#include <string>
#include <string_view>
#include <utility>

#include "kiln/codegen/layers/onnx.hpp"
#include "kiln/codegen/trainer/arena.hpp"
#include "kiln/codegen/trainer/tensor_table.hpp"

namespace kiln::codegen {

template <class T>  // trainer_traits<Model, Plan>
std::string export_layers(rt::onnx_graph& g, const std::string& input, const arena<T>& mem,
                          const tensor_table<T>& table) {
  using lay = typename T::lay;
  constexpr std::size_t layers = T::L - 2;  // 1 … L − 2: not the input, not the loss
  // Each layer's export as a pointer, and the loop at run time: one loop per trainer, not one
  // block of graph-building code per layer.
  using form = std::string (*)(const onnx_io&, std::string_view);
  static constexpr auto forms = []<std::size_t... I>(std::index_sequence<I...>) {
    return std::array<form, layers>{&export_op<typename lay::template op_at<I + 1>>...};
  }
  (dsl::index_for<layers>{});
  static constexpr auto kinds = []<std::size_t... I>(std::index_sequence<I...>) {
    return std::array<std::string_view, layers>{dsl::at<I + 1>(T::model).kind...};
  }
  (dsl::index_for<layers>{});
  std::string x = input;
  for (std::size_t i = 1; i <= layers; ++i)
    x = forms[i - 1](
        {&g, x, table.name(i), mem.p + lay::rows[i].param_base, mem.b + lay::rows[i].buffer_base},
        kinds[i - 1]);
  return x;
}

}  // namespace kiln::codegen
