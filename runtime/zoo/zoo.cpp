#include "kiln/runtime/zoo/zoo.hpp"

#include <cstdlib>
#include <string>

#include "kiln/core/error.hpp"
#include "kiln/runtime/io/bytes.hpp"
#include "kiln/runtime/io/import.hpp"
#include "kiln/runtime/io/safetensors.hpp"
#include "kiln/runtime/io/sha256.hpp"

namespace kiln::zoo {
namespace {

namespace fs = std::filesystem;

// Each entry is trained by the command in `reproduce`, then stored as F16 by
// `kiln-zoo pack` (which prints the digest below); `kiln-zoo eval` measured the accuracy.
constexpr entry zoo[] = {
    {"fmnist_mlp", "MLP 784-256-128-10, ReLU (samples/fmnist_mlp.hpp before dropout)",
     "Fashion-MNIST (60,000 training images)",
     "pixel / 255 in [0, 1], shape 1x28x28, no mean subtraction", 0.8868, "fmnist_mlp.safetensors",
     "caaea98560b173ab2cedfd00be09d0ba7224b9750fed692cb3bf0a2c2b9f74cb",
     "(samples/fmnist_mlp.cpp as of commit cbe4f66, the recipe before issue 19's) fmnist_mlp "
     "--epochs 10 --seed 0 --out OUT && kiln-zoo pack OUT/model.safetensors "
     "fmnist_mlp.safetensors"},
    {"fmnist_cnn",
     "CNN conv3x3 32 - BN - ReLU - max pool - conv3x3 64 - BN - ReLU - max pool - dense 256 - BN "
     "- ReLU - dropout 0.5 - dense 10 (samples/fmnist_cnn.hpp before its residual recipe)",
     "Fashion-MNIST (60,000 training images; random crops and flips)",
     "pixel / 255 in [0, 1], shape 1x28x28, no mean subtraction", 0.9307, "fmnist_cnn.safetensors",
     "062b2cca8653f0accdc3b53fcbff7f9f7f010fe635b55f5c211a84284004eaac",
     "(samples/fmnist_cnn.hpp as of commit 7564184, the recipe before the residual one) "
     "fmnist_cnn --seed 0 --threads 2 --out OUT && kiln-zoo pack OUT/model.safetensors "
     "fmnist_cnn.safetensors"},
};

}  // namespace

std::span<const entry> entries() { return zoo; }

const entry& find(std::string_view name) {
  std::string names;
  for (const entry& e : zoo) {
    if (e.name == name) return e;
    names += (names.empty() ? "" : ", ") + std::string(e.name);
  }
  throw config_error("zoo",
                     "no model named '" + std::string(name) + "' (the zoo has " + names + ")");
}

fs::path directory() {
  if (const char* env = std::getenv("KILN_ZOO"); env && *env) return env;
  std::error_code ec;
  if (fs::is_directory(KILN_ZOO_INSTALLED_DIR, ec)) return KILN_ZOO_INSTALLED_DIR;
  return KILN_ZOO_SOURCE_DIR;
}

rt::tensor_file weights(const entry& e, const fs::path& dir) {
  const fs::path path = dir / e.weights;
  const auto bytes = rt::io::read_file(path, std::uint64_t{1} << 30);
  const std::string found = rt::sha256_hex(bytes);
  if (found != e.sha256)
    throw file_error(path.string(), "SHA-256 mismatch for zoo model '" + std::string(e.name) +
                                        "': expected " + std::string(e.sha256) + ", found " +
                                        found + " (a damaged or replaced file)");
  return rt::parse_safetensors(bytes, path.string());
}

void load(rt::model& m, const entry& e, const fs::path& dir) {
  rt::import_options strict;
  strict.names = rt::naming::dsl;
  rt::load_weights(m, weights(e, dir), strict);
}

}  // namespace kiln::zoo
