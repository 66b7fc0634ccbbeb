// The whole model as an ONNX file (opset 13): input `input`, float32 [batch, ...input shape],
// the features as kiln's readers hand them over (uint8 data already scaled by 1/255, not yet
// standardized); output `logits`, float32 [batch, outputs]: what the model computes before its
// loss, in evaluation mode. The standardization, when the weights carry one, is the first two
// nodes (Sub, Div). ONNX Runtime and onnx.checker accept it (tests/export/).
#pragma once

#include <cstdint>
#include <filesystem>
#include <vector>

#include "kiln/runtime/data/standardize.hpp"
#include "kiln/runtime/model.hpp"

namespace kiln::rt {

// The serialized ModelProto. Throws kiln::config_error naming the layer when one has no ONNX
// form (nothing is written then).
std::vector<std::uint8_t> serialize_onnx(const model& m, const standardization& stats = {});
// The same, written atomically to `path`.
void write_onnx(const std::filesystem::path& path, const model& m,
                const standardization& stats = {});

}  // namespace kiln::rt
