// In-memory datasets: samples as float32 rows, labels or regression targets beside them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace kiln::rt {

struct dataset {
  std::string name;                // for messages: usually the file it came from
  std::vector<int> sample_shape;   // {1, 28, 28}, {784}, ...
  std::vector<float> x;            // size() * sample_size() floats
  std::vector<std::int32_t> labels;  // classify: one label in [0, classes) per sample
  int classes = 0;
  std::vector<float> targets;      // regress: size() * target_size floats
  int target_size = 0;

  std::size_t sample_size() const noexcept {
    std::size_t s = 1;
    for (int d : sample_shape) s *= static_cast<std::size_t>(d);
    return s;
  }
  std::size_t size() const noexcept {
    const std::size_t s = sample_size();
    return s ? x.size() / s : 0;
  }
};

struct train_test {
  dataset train, test;
};

}  // namespace kiln::rt
