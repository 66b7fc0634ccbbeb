// The initializers of an ONNX model (the weights an exporter such as torch.onnx.export stores in
// graph.initializer), read with the Debian ONNX / protobuf packages.
#pragma once

#include <filesystem>

#include "kiln/runtime/io/tensor_file.hpp"

namespace kiln::rt {

// Reads FLOAT, FLOAT16, BFLOAT16, DOUBLE, INT64, INT32 and UINT8 initializers, from raw_data or
// from the typed fields (float_data, int32_data, int64_data, double_data). The model's producer
// and opset go to `metadata`. External data, sparse initializers and other types are refused.
tensor_file read_onnx(const std::filesystem::path& path);

}  // namespace kiln::rt
