#include "kiln/runtime/data/cifar10.hpp"

#include "kiln/runtime/error.hpp"
#include "kiln/runtime/io/bytes.hpp"

namespace kiln::rt {

dataset read_cifar10(const std::vector<std::filesystem::path>& files) {
  constexpr std::size_t pixels = 3 * 32 * 32, record = 1 + pixels;
  constexpr int classes = 10;
  // A batch file is 30 MB; a limit well above it keeps hostile paths cheap.
  constexpr std::uint64_t limit = std::uint64_t{1} << 31;
  dataset d;
  d.name = files.empty() ? "cifar-10" : files.front().string();
  d.sample_shape = {3, 32, 32};
  d.classes = classes;
  for (const auto& path : files) {
    const auto bytes = io::read_file(path, limit);
    if (bytes.empty() || bytes.size() % record != 0)
      throw file_error(path.string(), "not CIFAR-10 binary: " + std::to_string(bytes.size()) +
                                          " bytes are not a whole number of 3073-byte records");
    const std::size_t n = bytes.size() / record;
    for (std::size_t i = 0; i < n; ++i) {
      const std::uint8_t* r = bytes.data() + i * record;
      if (r[0] >= classes)
        throw file_error(path.string(), "label " + std::to_string(r[0]) + " of record " +
                                            std::to_string(i) + " is not below 10");
      d.labels.push_back(r[0]);
      for (std::size_t k = 1; k < record; ++k) d.x.push_back(static_cast<float>(r[k]) / 255.0f);
    }
  }
  return d;
}

}  // namespace kiln::rt
