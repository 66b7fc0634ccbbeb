// NumPy's .npy format (versions 1.0, 2.0 and 3.0): a magic string, a Python-literal header
// {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4)}, then the data.
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "kiln/runtime/io/tensor_file.hpp"

namespace kiln::rt {
namespace io {
class cursor;
}

// Reads <f4, <f2, <f8, <i8, <i4 and |u1 arrays in C order (Fortran order is transposed). The
// tensor is named after the file's stem.
tensor_file read_npy(const std::filesystem::path& path);
// One array from its bytes; `path` names the file (or the .npz member) in messages.
named_tensor parse_npy(std::span<const std::uint8_t> bytes, const std::string& path,
                       const std::string& name);
// One array from where `c` stands to its end (a file, bytes, an .npz member): the header first,
// every size checked against what is left, then the values read once into the tensor.
named_tensor read_npy(io::cursor& c, const std::string& name);

// Version 1.0, '<f4', C order.
std::vector<std::uint8_t> serialize_npy(std::span<const std::size_t> shape,
                                        std::span<const float> values);
void write_npy(const std::filesystem::path& path, std::span<const std::size_t> shape,
               std::span<const float> values);
// '<i8' (class labels, as NumPy's int64).
std::vector<std::uint8_t> serialize_npy(std::span<const std::size_t> shape,
                                        std::span<const std::int64_t> values);
void write_npy(const std::filesystem::path& path, std::span<const std::size_t> shape,
               std::span<const std::int64_t> values);

}  // namespace kiln::rt
