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

#include "../support/rounding_walk.hpp"
#include "../support/runtime.hpp"

namespace rt = kiln::rt;
using namespace kiln::test;  // the random walk of rounding_walk.hpp

namespace {

std::string digest_of(const std::string& s) {
  return rt::sha256_hex({reinterpret_cast<const std::uint8_t*>(s.data()), s.size()});
}

// Every test image's logits (evaluation mode), `classes` floats each.
template <class Model>
std::vector<float> test_logits(Model& m, const rt::dataset& test, int in, int classes) {
  std::vector<float> logits(std::size_t(test.size()) * classes);
  const int images = int(test.size());
  for (int at = 0; at < images; at += m.batch()) {
    const int n = std::min(m.batch(), images - at);
    m.eval_step({n, test.x.data() + std::size_t(at) * in, test.labels.data() + at},
                logits.data() + std::size_t(at) * classes);
  }
  return logits;
}

// The largest logit of z, the one after it, and the gap between them.
struct top_two {
  int top = 0, next = 0;
  float gap = 0;
};
top_two top_two_of(const float* z, int classes) {
  top_two t;
  t.top = int(std::max_element(z, z + classes) - z);
  float second = -INFINITY;
  for (int c = 0; c < classes; ++c)
    if (c != t.top && z[c] > second) second = z[c], t.next = c;
  t.gap = z[t.top] - second;
  return t;
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
  // stay below M = |W|·|in| + |b| rounds with σ <= u·M·√((K + 2)/3), √2 more for two orders,
  // and a layer passes its inputs' σ on through W (ReLU passes a change on, or less):
  // σ_out² = 2u²M²(K + 2)/3 + Σ W²σ_in² (tests/support/rounding_walk.hpp). A prediction may flip
  // where the top two logits are within 6σ of their difference; the stated accuracy may differ from
  // this one by their share.
  const auto w1 = m.tensor("fc1.weight"), b1 = m.tensor("fc1.bias");
  const auto w2 = m.tensor("fc2.weight"), b2 = m.tensor("fc2.bias");
  const auto w3 = m.tensor("head.weight"), b3 = m.tensor("head.bias");
  constexpr int in = 784, classes = 10;
  const std::vector<float> logits = test_logits(m, test, in, classes);
  const int images = int(test.size());
  int could_flip = 0;
  for (int s = 0; s < images; ++s) {
    const auto [top, next, gap] = top_two_of(logits.data() + std::size_t(s) * classes, classes);
    if (gap > 0.1) continue;  // far beyond any 6σ below
    const std::vector<double> x(test.x.begin() + std::size_t(s) * in,
                                test.x.begin() + std::size_t(s + 1) * in);
    const auto [a, da] = dense_walk(w1, b1, x, std::vector<double>(in, 0.0), true);
    const auto [h, dh] = dense_walk(w2, b2, a, da, true);
    const auto [y, dy] = dense_walk(w3, b3, h, dh, false);
    could_flip += gap <= 6 * std::sqrt(dy[std::size_t(top)] + dy[std::size_t(next)]);
  }
  const double allowed = double(could_flip) / images;
  BOOST_TEST_MESSAGE(could_flip << " of " << images << " predictions could flip");
  BOOST_TEST(std::abs(accuracy - kiln::zoo::find("fmnist_mlp").accuracy) <= allowed + 1e-12);
}

BOOST_AUTO_TEST_CASE(the_zoo_cnn_reaches_its_stated_accuracy) {
  // The CNN (batch norm, dropout) as fmnist_cnn trained it: its weights load strictly into the
  // zoo's declaration, verified by SHA-256 first.
  auto m = kiln::zoo::pretrained<kiln::zoo::fmnist_cnn>("fmnist_cnn");
  const rt::dataset& test = rt::fashion_mnist().test;
  const double accuracy = rt::evaluate(m, test, m.batch()).accuracy;
  // The MLP's random walk above, carried through the convolutions (K = 9·channels terms per
  // output), batch norm (three roundings: a, b and the affine), ReLU and max pooling (each passes
  // a change on, or less) and the dense layers; dropout is the identity in evaluation.
  constexpr int in = 784, classes = 10;
  constexpr double eps = 1e-5;  // the zoo's batch_norm{} default
  const std::vector<float> logits = test_logits(m, test, in, classes);
  const int images = int(test.size());
  constexpr double cut = 0.1;  // gaps at or above it are not analysed: checked below
  int could_flip = 0;
  double widest = 0;  // the largest 6σ found
  for (int s = 0; s < images; ++s) {
    const auto [top, next, gap] = top_two_of(logits.data() + std::size_t(s) * classes, classes);
    if (gap >= cut) continue;
    walk x{std::vector<double>(test.x.begin() + std::size_t(s) * in,
                               test.x.begin() + std::size_t(s + 1) * in),
           std::vector<double>(in, 0.0)};
    x = conv_walk(m.tensor("conv1.weight"), m.tensor("conv1.bias"), x, 1, 28);
    x = max_pool_walk(relu_walk(batch_norm_walk(m, "bn1", x, 32, eps)), 32, 28);
    x = conv_walk(m.tensor("conv2.weight"), m.tensor("conv2.bias"), x, 32, 14);
    x = max_pool_walk(relu_walk(batch_norm_walk(m, "bn2", x, 64, eps)), 64, 14);
    x = dense_walk(m.tensor("fc1.weight"), m.tensor("fc1.bias"), x.first, x.second, false);
    x = relu_walk(batch_norm_walk(m, "bn3", x, 256, eps));
    const auto dy =
        dense_walk(m.tensor("head.weight"), m.tensor("head.bias"), x.first, x.second, false).second;
    const double six_sigma = 6 * std::sqrt(dy[std::size_t(top)] + dy[std::size_t(next)]);
    widest = std::max(widest, six_sigma);
    could_flip += gap <= six_sigma;
  }
  // The gaps left out are safe if 6σ stays far below the cut (σ grows with the logits'
  // magnitudes, which do not differ by orders between images).
  BOOST_TEST(widest < cut / 10);
  const double allowed = double(could_flip) / images;
  BOOST_TEST_MESSAGE(could_flip << " of " << images << " predictions could flip, 6σ <= " << widest);
  BOOST_TEST(std::abs(accuracy - kiln::zoo::find("fmnist_cnn").accuracy) <= allowed + 1e-12,
             accuracy);
  BOOST_TEST(kiln::zoo::find("fmnist_cnn").accuracy > 0.93);
}
