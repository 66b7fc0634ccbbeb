// A trained model's file: its parameters and buffers, and the input standardization it was
// trained with (runtime/data/standardize.hpp), which predict and export apply again.
#pragma once

#include <filesystem>

#include "kiln/runtime/data/standardize.hpp"
#include "kiln/runtime/io/import.hpp"
#include "kiln/runtime/model.hpp"

namespace kiln::rt {

// save_weights() plus the statistics, when there are any (safetensors).
void save_trained(const model& m, const standardization& stats, const std::filesystem::path& path,
                  dtype as = dtype::f32);

// Loads weights in any format kiln imports (safetensors, .npz, ONNX: a file written by
// save_trained or write_onnx too) and returns the standardization they carry (empty when none).
// Strict by default: a tensor missing, left over or of another shape is a kiln::file_error
// naming it, and nothing is written into the model.
standardization load_trained(model& m, const std::filesystem::path& path,
                             const import_options& options = {});
standardization load_trained(model& m, tensor_file file, const import_options& options = {});

}  // namespace kiln::rt
