// SHA-256 on the FIPS 180-4 test vectors; the zoo refuses a file whose digest differs, loads
// every model by name into its DSL architecture, and each reaches the accuracy it states.
#define BOOST_TEST_MODULE zoo
#include <boost/test/unit_test.hpp>

#include <kiln/codegen/zoo.hpp>
#include <kiln/kiln.hpp>
#include <kiln/runtime/io/bytes.hpp>
#include <kiln/runtime/io/sha256.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>

#include "../runtime/support.hpp"

namespace rt = kiln::rt;

namespace {

std::string digest_of(const std::string& s) {
  return rt::sha256_hex({reinterpret_cast<const std::uint8_t*>(s.data()), s.size()});
}

}  // namespace

BOOST_AUTO_TEST_CASE(sha256_test_vectors) {
  BOOST_TEST(digest_of("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  BOOST_TEST(digest_of("abc") ==
             "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  BOOST_TEST(digest_of("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") ==
             "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  // A million 'a', fed in uneven pieces: block boundaries fall everywhere.
  rt::sha256 h;
  const std::string piece(997, 'a');
  std::size_t fed = 0;
  while (fed < 1'000'000) {
    const std::size_t n = std::min<std::size_t>(piece.size(), 1'000'000 - fed);
    h.update({reinterpret_cast<const std::uint8_t*>(piece.data()), n});
    fed += n;
  }
  BOOST_TEST(h.hex_digest() == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  // 55, 56 and 64 bytes: the padding's edge cases.
  BOOST_TEST(digest_of(std::string(55, 'x')).size() == 64u);
  BOOST_TEST(digest_of(std::string(56, 'x')) != digest_of(std::string(55, 'x')));
}

BOOST_AUTO_TEST_CASE(the_zoo_lists_its_models) {
  const auto& e = kiln::zoo::find("fmnist_mlp");
  BOOST_TEST(e.accuracy > 0.88);
  BOOST_TEST(e.sha256.size() == 64u);
  BOOST_TEST(std::filesystem::exists(kiln::zoo::directory() / e.weights));
  try {
    kiln::zoo::find("resnet");
    BOOST_ERROR("no exception");
  } catch (const kiln::config_error& x) {
    BOOST_TEST(std::string(x.what()).find("no model named 'resnet' (the zoo has fmnist_mlp") !=
               std::string::npos);
  }
}

BOOST_AUTO_TEST_CASE(a_checksum_mismatch_is_refused) {
  const auto& e = kiln::zoo::find("fmnist_mlp");
  kiln::test::temp_dir dir;
  auto bytes = rt::io::read_file(kiln::zoo::directory() / e.weights);
  bytes[bytes.size() / 2] ^= 1;  // one bit of one weight
  kiln::test::write_file(dir / std::string(e.weights), bytes);
  kiln::test::expect_error<kiln::file_error>(
      [&] { kiln::zoo::weights(e, dir.path()); }, (dir / std::string(e.weights)).string(),
      "SHA-256 mismatch for zoo model 'fmnist_mlp': expected " + std::string(e.sha256));
  // A missing file is named too.
  std::filesystem::remove(dir / std::string(e.weights));
  BOOST_CHECK_THROW(kiln::zoo::weights(e, dir.path()), kiln::file_error);
}

template <auto Model>
void reaches_stated_accuracy(const char* name) {
  auto m = kiln::zoo::pretrained<Model>(name);
  const double accuracy = rt::evaluate(m, rt::fashion_mnist().test, m.batch()).accuracy;
  // Another CPU may round differently in its kernels: a few of 10,000 predictions may flip.
  BOOST_TEST(std::abs(accuracy - kiln::zoo::find(name).accuracy) <= 3e-4, name << ": " << accuracy);
}

BOOST_AUTO_TEST_CASE(every_zoo_model_reaches_its_stated_accuracy) {
  reaches_stated_accuracy<kiln::zoo::fmnist_mlp>("fmnist_mlp");
  // The CNN (batch norm, dropout) as fmnist_cnn trained it: its weights load strictly into the
  // zoo's declaration, verified by SHA-256 first.
  reaches_stated_accuracy<kiln::zoo::fmnist_cnn>("fmnist_cnn");
  BOOST_TEST(kiln::zoo::find("fmnist_cnn").accuracy > 0.93);
}
