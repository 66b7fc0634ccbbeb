// Hostile input: thousands of random corruptions of valid files (flipped bytes, truncations,
// inserted bytes, overwritten lengths) fed to every tensor reader. Each must either parse or
// throw kiln::error with a one-line message; nothing else (a crash, another exception, a huge
// allocation) is allowed. Under the asan-ubsan preset this is a small deterministic fuzzer.
#define BOOST_TEST_MODULE io_corruption
#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "../runtime/support.hpp"
#include "kiln/runtime/error.hpp"
#include "kiln/runtime/io/npy.hpp"
#include "kiln/runtime/io/npz.hpp"
#include "kiln/runtime/io/onnx.hpp"
#include "kiln/runtime/io/safetensors.hpp"
#include "kiln/runtime/rng.hpp"

using namespace kiln;
using bytes = std::vector<std::uint8_t>;
using parser = std::function<void(const bytes&)>;

namespace {

bytes read_bytes(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

const std::vector<float> weights = {0.5f, -1, 2, 3.25f, 4, 5, 6, 7, 8, 9, 10, 11};
const std::vector<rt::tensor_ref> tensors = {{"fc.weight", {3, 4}, weights},
                                             {"fc.bias", {3}, {weights.data(), 3}}};

bytes mutate(const bytes& good, rt::rng& r) {
  bytes b = good;
  switch (r.below(5)) {
    case 0:  // flip a few bytes
      for (int k = 0, n = 1 + int(r.below(4)); k < n && !b.empty(); ++k)
        b[r.below(b.size())] ^= static_cast<std::uint8_t>(1 + r.below(255));
      break;
    case 1:  // truncate
      b.resize(r.below(b.size() + 1));
      break;
    case 2:  // insert bytes
      b.insert(b.begin() + static_cast<long>(r.below(b.size() + 1)), 1 + r.below(16),
               static_cast<std::uint8_t>(r.below(256)));
      break;
    case 3:  // a large little-endian number somewhere (lengths, sizes, offsets)
      if (b.size() >= 8) {
        const std::size_t at = r.below(b.size() - 7);
        for (int k = 0; k < 8; ++k) b[at + k] = static_cast<std::uint8_t>(r.next());
      }
      break;
    default:  // digits in text headers become other digits
      for (auto& c : b)
        if (c >= '0' && c <= '9' && r.below(8) == 0)
          c = static_cast<std::uint8_t>('0' + r.below(10));
  }
  return b;
}

void survives(const char* format, const bytes& good, const parser& parse, int rounds) {
  rt::rng r(2024, std::hash<std::string>()(format));
  int rejected = 0;
  for (int i = 0; i < rounds; ++i) {
    const bytes b = mutate(good, r);
    try {
      parse(b);
    } catch (const kiln::error& e) {
      ++rejected;
      BOOST_TEST_REQUIRE(std::string(e.what()).find('\n') == std::string::npos);
    }
  }
  BOOST_TEST_MESSAGE(format << ": " << rejected << " of " << rounds << " corruptions rejected");
  BOOST_TEST(rejected > rounds / 4);
}

}  // namespace

BOOST_AUTO_TEST_CASE(safetensors_survive_corruption) {
  const bytes good = rt::serialize_safetensors(tensors, {{"kiln", "1"}});
  survives(
      "safetensors", good, [](const bytes& b) { rt::parse_safetensors(b, "x"); }, 3000);
}

BOOST_AUTO_TEST_CASE(npy_survives_corruption) {
  const bytes good = rt::serialize_npy(std::vector<std::size_t>{3, 4}, weights);
  survives(
      "npy", good, [](const bytes& b) { rt::parse_npy(b, "x", "x"); }, 3000);
}

BOOST_AUTO_TEST_CASE(npz_survives_corruption) {
  test::temp_dir dir;
  for (const bool deflate : {false, true}) {
    rt::write_npz(dir / "w.npz", tensors, deflate);
    const bytes good = read_bytes(dir / "w.npz");
    survives(
        deflate ? "npz (deflated)" : "npz (stored)", good,
        [](const bytes& b) { rt::parse_npz(b, "x"); }, 1500);
  }
}

BOOST_AUTO_TEST_CASE(onnx_survives_corruption) {
  const bytes good = read_bytes(std::string(KILN_FIXTURES) + "/torch/cnn_bn.onnx");
  survives(
      "onnx", good, [](const bytes& b) { rt::parse_onnx(b, "x"); }, 1500);
}
