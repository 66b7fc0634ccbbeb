// The initializers of an ONNX model (the weights an exporter such as torch.onnx.export stores in
// graph.initializer), read with the Debian ONNX / protobuf packages.
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>

#include "kiln/runtime/io/tensor_file.hpp"

namespace kiln::rt {

// Reads FLOAT, FLOAT16, BFLOAT16, DOUBLE, INT64, INT32 and UINT8 initializers, from raw_data or
// from the typed fields (float_data, int32_data, int64_data, double_data). The model's producer
// and opset go to `metadata`. External data, sparse initializers and other types are refused.
tensor_file read_onnx(const std::filesystem::path& path);
// The same from the file's bytes; `path` names it in messages.
tensor_file parse_onnx(std::span<const std::uint8_t> bytes, const std::string& path);

}  // namespace kiln::rt
