// Hostile input: thousands of random corruptions of valid files (flipped bytes, truncations,
// inserted bytes, overwritten lengths) fed to every reader -- tensor files, checkpoints and
// datasets. Each must either parse or throw kiln::error with a one-line message; nothing else (a
// crash, another exception, a huge allocation) is allowed. Under the asan-ubsan preset this is a
// small deterministic fuzzer (tests/fuzz has the coverage-guided ones). And every truncation of
// a valid file, at every length, is refused by the formats that record their own size.
#define BOOST_TEST_MODULE io_corruption
#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "../support/runtime.hpp"
#include "kiln/runtime/data/cifar10.hpp"
#include "kiln/runtime/data/csv.hpp"
#include "kiln/runtime/data/idx.hpp"
#include "kiln/core/error.hpp"
#include "kiln/runtime/io/checkpoint.hpp"
#include "kiln/runtime/io/npy.hpp"
#include "kiln/runtime/io/npz.hpp"
#include "kiln/runtime/io/onnx.hpp"
#include "kiln/runtime/io/safetensors.hpp"
#include "kiln/core/rng.hpp"

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

// Every proper prefix of `good` must be refused with a kiln::error naming the input.
void refuses_every_truncation(const char* format, const bytes& good, const parser& parse) {
  int refused = 0;
  for (std::size_t n = 0; n < good.size(); ++n) {
    try {
      parse(bytes(good.begin(), good.begin() + static_cast<long>(n)));
      BOOST_ERROR(format << ": the first " << n << " of " << good.size() << " bytes were accepted");
    } catch (const kiln::error& e) {
      ++refused;
      BOOST_TEST_REQUIRE(std::string(e.what()).rfind("x: ", 0) == 0);
    }
  }
  BOOST_TEST_MESSAGE(format << ": all " << refused << " truncations refused");
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
      BOOST_TEST_REQUIRE(std::string(e.what()).rfind("x: ", 0) == 0, e.what());
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

BOOST_AUTO_TEST_CASE(checkpoints_survive_corruption) {
  test::temp_dir dir;
  test::linear_softmax m({4}, 3, 8);
  rt::save_checkpoint(dir / "c.safetensors", m, {{1, 2, 3.0, 4, 16, 0.5}, 5, 8});
  const bytes good = read_bytes(dir / "c.safetensors");
  const parser load = [](const bytes& b) {
    test::linear_softmax into({4}, 3, 8);
    rt::load_checkpoint(rt::parse_safetensors(b, "x"), into);
  };
  survives("checkpoint", good, load, 2000);
  refuses_every_truncation("checkpoint", good, load);
}

BOOST_AUTO_TEST_CASE(datasets_survive_corruption) {
  const bytes images = test::idx_file({3, 5, 4}, test::counting(60));
  const parser idx = [](const bytes& b) { rt::parse_idx(b, "x"); };
  survives("idx", images, idx, 2000);
  survives("idx (gzip)", test::gzip(images), idx, 2000);
  refuses_every_truncation("idx", images, idx);
  refuses_every_truncation("idx (gzip)", test::gzip(images), idx);

  bytes cifar;
  for (std::uint8_t label : {3, 7}) {
    cifar.push_back(label);
    for (int i = 0; i < 3072; ++i) cifar.push_back(static_cast<std::uint8_t>(i));
  }
  const parser cifar10 = [](const bytes& b) { rt::parse_cifar10(b, "x"); };
  survives("cifar10", cifar, cifar10, 500);
  refuses_every_truncation("cifar10", bytes(cifar.begin(), cifar.begin() + 3073), cifar10);

  const std::string csv = "label,x,y\n1, 0.5,2\n0,-1e3,3\r\n\n2,4,5\n";
  survives(
      "csv", bytes(csv.begin(), csv.end()),
      [](const bytes& b) {
        rt::parse_csv({reinterpret_cast<const char*>(b.data()), b.size()}, "x");
      },
      2000);
}

BOOST_AUTO_TEST_CASE(tensor_files_refuse_every_truncation) {
  refuses_every_truncation("safetensors", rt::serialize_safetensors(tensors, {{"kiln", "1"}}),
                           [](const bytes& b) { rt::parse_safetensors(b, "x"); });
  refuses_every_truncation("npy", rt::serialize_npy(std::vector<std::size_t>{3, 4}, weights),
                           [](const bytes& b) { rt::parse_npy(b, "x", "x"); });
  test::temp_dir dir;
  for (const bool deflate : {false, true}) {
    rt::write_npz(dir / "w.npz", tensors, deflate);
    refuses_every_truncation(deflate ? "npz (deflated)" : "npz (stored)", read_bytes(dir / "w.npz"),
                             [](const bytes& b) { rt::parse_npz(b, "x"); });
  }
  // Not ONNX: protobuf has no overall length, and a message cut between two fields is a valid,
  // shorter message. Its random corruptions above (and fuzz_onnx) cover it.
}
