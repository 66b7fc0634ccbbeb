#include "kiln/runtime/data/cifar10.hpp"

#include "kiln/runtime/error.hpp"
#include "kiln/runtime/io/bytes.hpp"

namespace kiln::rt {
namespace {

constexpr std::size_t pixels = 3 * 32 * 32, record = 1 + pixels;
constexpr int classes = 10;

dataset empty_cifar10(const std::string& name) {
  dataset d;
  d.name = name;
  d.sample_shape = {3, 32, 32};
  d.classes = classes;
  return d;
}

// Checks the whole batch before `d` grows, so a bad file leaves it as it was.
void append(std::span<const std::uint8_t> bytes, const std::string& path, dataset& d) {
  if (bytes.empty() || bytes.size() % record != 0)
    throw file_error(path, "not CIFAR-10 binary: " + std::to_string(bytes.size()) +
                               " bytes are not a whole number of 3073-byte records");
  const std::size_t n = bytes.size() / record;
  for (std::size_t i = 0; i < n; ++i)
    if (const std::uint8_t label = bytes[i * record]; label >= classes)
      throw file_error(path, "label " + std::to_string(label) + " of record " + std::to_string(i) +
                                 " is not below 10");
  d.labels.reserve(d.labels.size() + n);
  d.x.reserve(d.x.size() + n * pixels);
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint8_t* r = bytes.data() + i * record;
    d.labels.push_back(r[0]);
    for (std::size_t k = 1; k < record; ++k) d.x.push_back(static_cast<float>(r[k]) / 255.0f);
  }
}

}  // namespace

dataset read_cifar10(const std::vector<std::filesystem::path>& files) {
  // A batch file is 30 MB; a limit well above it keeps hostile paths cheap.
  constexpr std::uint64_t limit = std::uint64_t{1} << 31;
  dataset d = empty_cifar10(files.empty() ? "cifar-10" : files.front().string());
  for (const auto& path : files) append(io::read_file(path, limit), path.string(), d);
  return d;
}

dataset parse_cifar10(std::span<const std::uint8_t> bytes, const std::string& path) {
  dataset d = empty_cifar10(path);
  append(bytes, path, d);
  return d;
}

}  // namespace kiln::rt
