// CIFAR-10's binary version (data_batch_1.bin ... test_batch.bin): records of one label byte
// and 3072 pixel bytes (red, green, blue planes of 32x32, row-major).
#pragma once

#include <filesystem>
#include <vector>

#include "kiln/runtime/data/dataset.hpp"

namespace kiln::rt {

// One or more batch files -> a classification dataset, shape {3, 32, 32}, pixels / 255, 10
// classes. Throws kiln::file_error naming the file for: a size that is not a whole number of
// 3073-byte records (or none), a label above 9.
dataset read_cifar10(const std::vector<std::filesystem::path>& files);

}  // namespace kiln::rt
