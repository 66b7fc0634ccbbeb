// SHA-256 on the FIPS 180-4 test vectors; the zoo refuses a file whose digest differs, loads
// every model by name into its DSL architecture, and each reaches the accuracy it states.
#define BOOST_TEST_MODULE zoo
#include <boost/test/unit_test.hpp>

#include <kiln/zoo.hpp>
#include <kiln/kiln.hpp>
#include <kiln/runtime/io/bytes.hpp>
#include <kiln/runtime/io/sha256.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>

#include "../support/rounding.hpp"
#include "../support/runtime.hpp"

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

BOOST_AUTO_TEST_CASE(the_zoo_mlp_reaches_its_stated_accuracy) {
  auto m = kiln::zoo::pretrained<kiln::zoo::fmnist_mlp>("fmnist_mlp");
  const rt::dataset& test = rt::fashion_mnist().test;
  const double accuracy = rt::evaluate(m, test, m.batch()).accuracy;
  // Another CPU (another Highway target, another OpenBLAS kernel) may sum each dot product in
  // another order, and a prediction flips only where the top two logits are closer than their
  // possible change. The worst case (Higham 3.1, two_orders(785) of |W1|·|x| carried through two
  // more layers) allows a tenth of the images to flip: no check at all. Independent roundings
  // add up like a random walk instead (Higham 2.8): a dot product of K terms whose partial sums
  // stay below M = |W|·|in| + |b| rounds with σ <= u·M·√(K/3), √2 more for two orders, and a
  // layer passes its inputs' σ on through W (ReLU passes a change on, or less):
  // σ_out² = 2u²M²K/3 + Σ W²σ_in². A prediction may flip where the top two logits are within
  // 6σ of their difference; the stated accuracy may differ from this one by their share.
  constexpr double u = kiln::test::u;
  const auto w1 = m.tensor("fc1.weight"), b1 = m.tensor("fc1.bias");
  const auto w2 = m.tensor("fc2.weight"), b2 = m.tensor("fc2.bias");
  const auto w3 = m.tensor("head.weight"), b3 = m.tensor("head.bias");
  constexpr int in = 784, classes = 10;
  // (value, variance of its change) of each output of a dense layer.
  auto layer = [](std::span<const float> w, std::span<const float> b, const std::vector<double>& x,
                  const std::vector<double>& var, bool relu) {
    const std::size_t k = x.size(), n = b.size();
    std::vector<double> y(n), vy(n);
    for (std::size_t j = 0; j < n; ++j) {
      double v = b[j], magnitude = std::abs(b[j]), carried = 0;
      for (std::size_t i = 0; i < k; ++i) {
        v += w[j * k + i] * x[i];
        magnitude += std::abs(w[j * k + i] * x[i]);
        carried += double(w[j * k + i]) * w[j * k + i] * var[i];
      }
      y[j] = relu ? std::max(v, 0.0) : v;
      vy[j] = 2 * u * u * magnitude * magnitude * double(k + 1) / 3 + carried;
    }
    return std::pair{y, vy};
  };
  std::vector<float> logits(std::size_t(test.size()) * classes);
  const int images = int(test.size());
  for (int at = 0; at < images; at += m.batch()) {
    const int n = std::min(m.batch(), images - at);
    m.eval_step({n, test.x.data() + std::size_t(at) * in, test.labels.data() + at},
                logits.data() + std::size_t(at) * classes);
  }
  int could_flip = 0;
  for (int s = 0; s < images; ++s) {
    const float* z = logits.data() + std::size_t(s) * classes;
    const int top = int(std::max_element(z, z + classes) - z);
    float second = -INFINITY;
    int next = 0;
    for (int c = 0; c < classes; ++c)
      if (c != top && z[c] > second) second = z[c], next = c;
    if (z[top] - second > 0.1) continue;  // far beyond any 6σ below
    const std::vector<double> x(test.x.begin() + std::size_t(s) * in,
                                test.x.begin() + std::size_t(s + 1) * in);
    const auto [a, da] = layer(w1, b1, x, std::vector<double>(in, 0.0), true);
    const auto [h, dh] = layer(w2, b2, a, da, true);
    const auto [y, dy] = layer(w3, b3, h, dh, false);
    could_flip += z[top] - second <= 6 * std::sqrt(dy[std::size_t(top)] + dy[std::size_t(next)]);
  }
  const double allowed = double(could_flip) / images;
  BOOST_TEST_MESSAGE(could_flip << " of " << images << " predictions could flip");
  BOOST_TEST(std::abs(accuracy - kiln::zoo::find("fmnist_mlp").accuracy) <= allowed + 1e-12);
}

BOOST_AUTO_TEST_CASE(the_zoo_cnn_reaches_its_stated_accuracy) {
  // The CNN (batch norm, dropout) as fmnist_cnn trained it: its weights load strictly into the
  // zoo's declaration, verified by SHA-256 first.
  auto m = kiln::zoo::pretrained<kiln::zoo::fmnist_cnn>("fmnist_cnn");
  const double accuracy = rt::evaluate(m, rt::fashion_mnist().test, m.batch()).accuracy;
  // Not derived yet (the MLP's analysis above, carried through convolutions and batch norm, is
  // to come): another target may flip a few of the 10,000 predictions, 3 allowed.
  BOOST_TEST(std::abs(accuracy - kiln::zoo::find("fmnist_cnn").accuracy) <= 3e-4, accuracy);
  BOOST_TEST(kiln::zoo::find("fmnist_cnn").accuracy > 0.93);
}
