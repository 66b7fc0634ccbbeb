// A generated trainer as an ONNX graph: every layer's to_onnx (codegen/layers/onnx.hpp) in
// order, from the tensor named `input`, with the layer's name and its parameters and buffers in
// the arena; the loss adds nothing. Returns the name of the last layer's output (the logits).
#pragma once

#include <cstddef>
#include <string>
#include <utility>

#include "kiln/codegen/layers/onnx.hpp"
#include "kiln/codegen/trainer/arena.hpp"
#include "kiln/codegen/trainer/tensor_table.hpp"

namespace kiln::codegen {

template <class T>  // trainer_traits<Model, Plan>
std::string export_layers(rt::onnx_graph& g, const std::string& input, const arena<T>& mem,
                          const tensor_table<T>& table) {
  using lay = typename T::lay;
  std::string x = input;
  dsl::for_each_index<T::L - 2>([&]<std::size_t I>(dsl::index_c<I>) {
    x = export_op<typename lay::template op_at<I + 1>>(
        {&g, x, table.name(I + 1), mem.p + lay::rows[I + 1].param_base,
         mem.b + lay::rows[I + 1].buffer_base},
        dsl::at<I + 1>(T::model).kind);
  });
  return x;
}

}  // namespace kiln::codegen
