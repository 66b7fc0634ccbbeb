// CIFAR-10's binary version (data_batch_1.bin ... test_batch.bin): records of one label byte
// and 3072 pixel bytes (red, green, blue planes of 32x32, row-major).
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "kiln/runtime/data/dataset.hpp"

namespace kiln::rt {

// One or more batch files -> a classification dataset, shape {3, 32, 32}, pixels / 255, 10
// classes. Throws kiln::file_error naming the file for: a size that is not a whole number of
// 3073-byte records (or none), a label above 9.
dataset read_cifar10(const std::vector<std::filesystem::path>& files);
// One batch file from its bytes; `path` names it in messages.
dataset parse_cifar10(std::span<const std::uint8_t> bytes, const std::string& path);

}  // namespace kiln::rt
