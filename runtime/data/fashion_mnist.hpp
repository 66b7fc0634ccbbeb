// Fashion-MNIST from the Debian package dataset-fashion-mnist (IDX, gzip-compressed).
#pragma once

#include <filesystem>

#include "kiln/runtime/data/dataset.hpp"

namespace kiln::rt {

// $KILN_FASHION_MNIST when set, else /usr/share/datasets/fashion-mnist.
std::filesystem::path fashion_mnist_dir();

// Loads the four files (train/t10k images and labels, .gz or raw) from `dir`.
// Images become float32 in [0, 1] (pixel / 255), shape {1, 28, 28}; 10 classes.
train_test fashion_mnist(const std::filesystem::path& dir = fashion_mnist_dir());

}  // namespace kiln::rt
