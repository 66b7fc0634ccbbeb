#include "kiln/runtime/data/cifar10.hpp"

#include <algorithm>
#include <vector>

#include "kiln/runtime/error.hpp"
#include "kiln/runtime/io/cursor.hpp"
#include "kiln/runtime/io/file.hpp"

namespace kiln::rt {
namespace {

constexpr std::size_t pixels = 3 * 32 * 32, record = 1 + pixels;
constexpr int classes = 10;
// A batch file is 30 MB; a limit well above it keeps hostile paths cheap.
constexpr std::uint64_t max_batch = std::uint64_t{1} << 31;
constexpr std::size_t records_per_chunk = 256;  // 768 KiB read at a time

dataset empty_cifar10(const std::string& name) {
  dataset d;
  d.name = name;
  d.sample_shape = {3, 32, 32};
  d.classes = classes;
  return d;
}

// The records a batch holds, from its size alone: checked before anything is read.
std::size_t records_in(const io::cursor& c) {
  const std::uint64_t size = c.size();
  if (size == 0) c.need(record, "a record");  // "the file is empty"
  // The size tells the record count before anything is read or allocated.
  if (size % record != 0)
    c.fail("not CIFAR-10 binary: " + std::to_string(size) +
           " bytes are not a whole number of 3073-byte records");
  if (size > max_batch)
    c.fail(std::to_string(size) + " bytes: more than the 2 GiB kiln reads from one batch file (" +
           "CIFAR-10's are 30 MB)");
  return static_cast<std::size_t>(size / record);
}

// Reads the whole batch from `c`, a chunk of records at a time, straight into `d`; a bad file
// leaves `d` as it was.
void append(io::cursor& c, dataset& d) {
  const std::size_t n = records_in(c), labels = d.labels.size(), values = d.x.size();
  try {
    d.labels.reserve(labels + n);
    d.x.reserve(values + n * pixels);
    std::vector<std::uint8_t> chunk(std::min(n, records_per_chunk) * record);
    for (std::size_t first = 0; first < n;) {
      const std::size_t count = std::min(n - first, records_per_chunk);
      c.read(chunk.data(), count * record, "records");
      for (std::size_t i = 0; i < count; ++i) {
        const std::uint8_t* r = chunk.data() + i * record;
        if (r[0] >= classes)
          c.fail("label " + std::to_string(r[0]) + " of record " + std::to_string(first + i) +
                 " is not below 10");
        d.labels.push_back(r[0]);
        for (std::size_t k = 1; k < record; ++k) d.x.push_back(static_cast<float>(r[k]) / 255.0f);
      }
      first += count;
    }
  } catch (...) {
    d.labels.resize(labels);
    d.x.resize(values);
    throw;
  }
}

}  // namespace

dataset read_cifar10(const std::vector<std::filesystem::path>& files) {
  dataset d = empty_cifar10(files.empty() ? "cifar-10" : files.front().string());
  // Every file checked and sized first: the dataset is allocated once for all of them.
  std::vector<io::input_file> opened;
  std::uint64_t records = 0;
  for (const auto& path : files) {
    opened.emplace_back(path);
    records += records_in(io::cursor(opened.back()));
  }
  d.labels.reserve(records);
  d.x.reserve(records * pixels);
  for (const io::input_file& file : opened) {
    io::cursor c(file);
    append(c, d);
  }
  return d;
}

dataset parse_cifar10(std::span<const std::uint8_t> bytes, const std::string& path) {
  dataset d = empty_cifar10(path);
  io::cursor c(bytes, path);
  append(c, d);
  return d;
}

}  // namespace kiln::rt
