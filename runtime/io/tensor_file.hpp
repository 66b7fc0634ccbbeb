// What kiln reads from and writes to tensor files (safetensors, .npy, .npz, ONNX initializers):
// named tensors converted to float32, with the dtype and shape they had in the file, and the
// file's text metadata. Every reader validates the whole file before returning.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace kiln::rt {

// Element types kiln reads. Floating types are converted to float32 (F64 rounded to nearest);
// integer types are converted too (I64 counters such as BatchNorm's num_batches_tracked).
enum class dtype { f32, f16, bf16, f64, i64, i32, u8 };

std::string_view dtype_name(dtype t) noexcept;  // safetensors spelling: "F32", "BF16", ...
std::size_t dtype_bytes(dtype t) noexcept;

// One tensor as read: its values are float32 whatever the file stored.
struct named_tensor {
  std::string name;
  dtype stored = dtype::f32;  // what the file held
  std::vector<std::size_t> shape;
  std::vector<float> values;  // product(shape) values, row-major (C order)
};

// The contents of one tensor file.
struct tensor_file {
  std::string path;                             // for messages
  std::string format;                           // "safetensors", "npy", "npz", "onnx"
  std::vector<named_tensor> tensors;            // in file order
  std::map<std::string, std::string> metadata;  // safetensors' __metadata__, ONNX producer, ...

  const named_tensor* find(std::string_view name) const noexcept;
};

// A tensor to write: a view of floats owned by the caller.
struct tensor_ref {
  std::string name;
  std::vector<std::size_t> shape;
  std::span<const float> values;
};

// Reads a tensor file, its format chosen by the extension (.safetensors, .npy, .npz, .onnx).
// Throws kiln::file_error "<path>: <problem>" for anything it cannot read.
tensor_file read_tensor_file(const std::filesystem::path& path);

// "3x4", or "scalar" for a rank-0 tensor.
std::string shape_text(std::span<const std::size_t> shape);
std::string shape_text(std::span<const int> shape);

}  // namespace kiln::rt
