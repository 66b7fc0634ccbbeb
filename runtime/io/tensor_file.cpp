#include "kiln/runtime/io/tensor_file.hpp"

#include <cstring>

#include "kiln/runtime/error.hpp"
#include "kiln/runtime/io/file.hpp"
#include "kiln/runtime/io/foreign.hpp"
#include "kiln/runtime/io/npy.hpp"
#include "kiln/runtime/io/npz.hpp"
#include "kiln/runtime/io/onnx.hpp"
#include "kiln/runtime/io/safetensors.hpp"

namespace kiln::rt {

std::string_view dtype_name(dtype t) noexcept {
  switch (t) {
    case dtype::f32:
      return "F32";
    case dtype::f16:
      return "F16";
    case dtype::bf16:
      return "BF16";
    case dtype::f64:
      return "F64";
    case dtype::i64:
      return "I64";
    case dtype::i32:
      return "I32";
    case dtype::u8:
      return "U8";
  }
  return "?";
}

std::size_t dtype_bytes(dtype t) noexcept {
  switch (t) {
    case dtype::f16:
    case dtype::bf16:
      return 2;
    case dtype::f64:
    case dtype::i64:
      return 8;
    case dtype::u8:
      return 1;
    case dtype::f32:
    case dtype::i32:
      return 4;
  }
  return 4;
}

const named_tensor* tensor_file::find(std::string_view name) const noexcept {
  for (const named_tensor& t : tensors)
    if (t.name == name) return &t;
  return nullptr;
}

tensor_file read_tensor_file(const std::filesystem::path& path) {
  const std::string ext = path.extension().string();
  if (ext == ".safetensors") return read_safetensors(path);
  if (ext == ".npy") return read_npy(path);
  if (ext == ".npz") return read_npz(path);
  if (ext == ".onnx") return read_onnx(path);
  // Another extension: the file is looked at (checked as every read is) for what it is.
  const io::input_file file(path);
  if (file.size() == 0) throw file_error(file.path(), "the file is empty");
  std::uint8_t head[16];
  const std::size_t got = file.read_at(0, head, sizeof head);
  if (auto foreign = io::foreign_format({head, got}, file.path()))
    throw file_error(file.path(), *foreign);
  // A zip (PyTorch's torch.save writes one, .pt or .pth): the npz reader names what it holds.
  if (got >= 4 && std::memcmp(head, "PK\3\4", 4) == 0) return read_npz(path);
  throw file_error(path.string(), "unknown tensor file extension '" + ext +
                                      "' (expected .safetensors, .npy, .npz or .onnx)");
}

template <class T>
static std::string join_shape(std::span<const T> shape) {
  if (shape.empty()) return "scalar";
  std::string s;
  for (const T d : shape) {
    if (!s.empty()) s += 'x';
    s += std::to_string(d);
  }
  return s;
}
std::string shape_text(std::span<const std::size_t> shape) { return join_shape(shape); }
std::string shape_text(std::span<const int> shape) { return join_shape(shape); }

}  // namespace kiln::rt
