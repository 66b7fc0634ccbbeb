// NumPy's .npz: a zip archive of .npy members (np.savez: stored; np.savez_compressed: deflated).
#pragma once

#include <filesystem>
#include <cstdint>
#include <span>
#include <string>

#include "kiln/runtime/io/tensor_file.hpp"

namespace kiln::rt {

// Every member must be a valid .npy; tensors are named after the members without ".npy"
// ("fc1.weight.npy" -> "fc1.weight"). Reads through libzip with its consistency checks; a member
// may not inflate past the size it declares, nor past the limit below per archive.
tensor_file read_npz(const std::filesystem::path& path);
// The same from the archive's bytes (kept alive by the caller); `path` names it in messages.
tensor_file parse_npz(std::span<const std::uint8_t> bytes, const std::string& path);

// np.savez layout: one '<f4' .npy member per tensor, deflated when `compress`.
void write_npz(const std::filesystem::path& path, std::span<const tensor_ref> tensors,
               bool compress = true);

}  // namespace kiln::rt
