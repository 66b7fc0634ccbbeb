// safetensors (https://huggingface.co/docs/safetensors): kiln's native weights and checkpoint
// format. An 8-byte little-endian header length, a JSON header naming each tensor's dtype, shape
// and byte range, then the data. PyTorch reads kiln's files with safetensors.torch.load_file.
#pragma once

#include <filesystem>
#include <map>
#include <span>
#include <string>

#include "kiln/runtime/io/tensor_file.hpp"

namespace kiln::rt {

// Reads F32, F16, BF16 and F64 tensors (and I64, I32, U8 ones) as float32. Validates the whole
// file first: header length, JSON, dtypes, shapes, byte ranges (inside the data, matching the
// shape, no overlap, no gap), metadata values being strings.
tensor_file read_safetensors(const std::filesystem::path& path);
tensor_file parse_safetensors(std::span<const std::uint8_t> bytes, const std::string& path);

// Writes `tensors` (in this order) and `metadata`, atomically. `as` is F32 (exact), F16 or BF16
// (rounded to nearest even: half the size, for the model zoo).
void write_safetensors(const std::filesystem::path& path, std::span<const tensor_ref> tensors,
                       const std::map<std::string, std::string>& metadata = {},
                       dtype as = dtype::f32);
std::vector<std::uint8_t> serialize_safetensors(std::span<const tensor_ref> tensors,
                                                const std::map<std::string, std::string>& metadata,
                                                dtype as = dtype::f32);

}  // namespace kiln::rt
