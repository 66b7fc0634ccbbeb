#include "kiln/runtime/data/fashion_mnist.hpp"

#include <cstdlib>
#include <exception>
#include <future>
#include <string>

#include "kiln/runtime/data/idx.hpp"
#include "kiln/runtime/error.hpp"

namespace kiln::rt {
namespace {

namespace fs = std::filesystem;

constexpr int fashion_mnist_classes = 10;
constexpr const char* how_to_get_it =
    "install it with `apt-get install dataset-fashion-mnist`, or point --data or "
    "KILN_FASHION_MNIST to the folder holding the four IDX files";

// Debian ships `<name>.gz`; a user may have unpacked it to `<name>`.
fs::path find_file(const fs::path& dir, const std::string& name) {
  for (const fs::path& candidate : {dir / (name + ".gz"), dir / name})
    if (fs::exists(candidate)) return candidate;
  throw file_error((dir / (name + ".gz")).string(),
                   "missing (nor is there " + name + "); " + how_to_get_it);
}

dataset load_split(const fs::path& dir, const std::string& prefix) {
  const fs::path images = find_file(dir, prefix + "-images-idx3-ubyte");
  const fs::path labels = find_file(dir, prefix + "-labels-idx1-ubyte");
  return read_idx_dataset(images, labels, fashion_mnist_classes);
}

}  // namespace

fs::path fashion_mnist_dir() {
  if (const char* env = std::getenv("KILN_FASHION_MNIST"); env && *env) return env;
  return "/usr/share/datasets/fashion-mnist";
}

train_test fashion_mnist(const fs::path& dir) {
  std::error_code ec;
  if (!fs::exists(dir, ec))
    throw file_error(dir.string(), std::string("no such folder; ") + how_to_get_it);
  if (!fs::is_directory(dir, ec))
    throw file_error(dir.string(), std::string("not a folder; ") + how_to_get_it);
  // The training images are most of the work: inflate them beside the rest.
  auto train = std::async(std::launch::async, load_split, dir, "train");
  dataset test;
  std::exception_ptr test_error;
  try {
    test = load_split(dir, "t10k");
  } catch (...) {
    test_error = std::current_exception();
  }
  train_test both{train.get(), std::move(test)};  // a problem with the training files comes first
  if (test_error) std::rethrow_exception(test_error);
  return both;
}

}  // namespace kiln::rt
