#define BOOST_TEST_MODULE runtime_fashion_mnist
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <chrono>
#include <cstdlib>

#include "kiln/runtime/data/fashion_mnist.hpp"
#include "kiln/core/error.hpp"
#include "../support/runtime.hpp"

using namespace kiln;
using namespace kiln::test;

namespace {

// Sets an environment variable for the scope of a test.
class scoped_env {
 public:
  scoped_env(const char* name, const std::string& value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old, had_ = true;
    setenv(name, value.c_str(), 1);
  }
  ~scoped_env() { had_ ? setenv(name_, old_.c_str(), 1) : unsetenv(name_); }

 private:
  const char* name_;
  std::string old_;
  bool had_ = false;
};

void write_split(const temp_dir& dir, const std::string& prefix, std::uint32_t n, bool gz) {
  bytes images = idx_file({n, 28, 28}, counting(n * 28 * 28));
  bytes labels(n);
  for (std::uint32_t i = 0; i < n; ++i) labels[i] = static_cast<std::uint8_t>(i % 10);
  labels = idx_file({n}, labels);
  const std::string suffix = gz ? ".gz" : "";
  write_file(dir / (prefix + "-images-idx3-ubyte" + suffix), gz ? gzip(images) : images);
  write_file(dir / (prefix + "-labels-idx1-ubyte" + suffix), gz ? gzip(labels) : labels);
}

}  // namespace

BOOST_AUTO_TEST_CASE(default_dir_follows_the_environment) {
  {
    scoped_env env("KILN_FASHION_MNIST", "/somewhere/else");
    BOOST_TEST(rt::fashion_mnist_dir() == fs::path("/somewhere/else"));
  }
  scoped_env empty("KILN_FASHION_MNIST", "");
  BOOST_TEST(rt::fashion_mnist_dir() == fs::path("/usr/share/datasets/fashion-mnist"));
}

BOOST_AUTO_TEST_CASE(gzip_and_raw_names_are_both_accepted) {
  temp_dir dir;
  write_split(dir, "train", 30, true);
  write_split(dir, "t10k", 20, false);
  const rt::train_test data = rt::fashion_mnist(dir.path());
  BOOST_TEST(data.train.size() == 30u);
  BOOST_TEST(data.test.size() == 20u);
  BOOST_TEST(data.train.classes == 10);
  BOOST_TEST(data.test.labels[13] == 3);
}

BOOST_AUTO_TEST_CASE(missing_folder_says_how_to_get_the_data) {
  temp_dir dir;
  const fs::path absent = dir / "nowhere";
  expect_error<file_error>([&] { rt::fashion_mnist(absent); }, absent.string(),
                           "apt-get install dataset-fashion-mnist");
  expect_error<file_error>([&] { rt::fashion_mnist(absent); }, absent.string(),
                           "KILN_FASHION_MNIST");
}

BOOST_AUTO_TEST_CASE(missing_file_says_how_to_get_the_data) {
  temp_dir dir;
  write_split(dir, "train", 10, true);
  const fs::path expected = dir / "t10k-images-idx3-ubyte.gz";
  expect_error<file_error>([&] { rt::fashion_mnist(dir.path()); }, expected.string(),
                           "missing (nor is there t10k-images-idx3-ubyte); install it with "
                           "`apt-get install dataset-fashion-mnist`, or point --data");
}

BOOST_AUTO_TEST_CASE(a_broken_file_is_named) {
  temp_dir dir;
  write_split(dir, "train", 10, true);
  write_split(dir, "t10k", 10, true);
  const fs::path labels = write_file(dir / "train-labels-idx1-ubyte.gz", gzip(idx_file({10}, {})));
  expect_error<file_error>([&] { rt::fashion_mnist(dir.path()); }, labels.string(), "truncated");
}

// CI installs dataset-fashion-mnist: a missing dataset is a failure, not a skip.
BOOST_AUTO_TEST_CASE(real_fashion_mnist) {
  const fs::path dir = rt::fashion_mnist_dir();
  BOOST_REQUIRE_MESSAGE(
      fs::exists(dir / "train-images-idx3-ubyte.gz") || fs::exists(dir / "train-images-idx3-ubyte"),
      "Fashion-MNIST not found in " << dir
                                    << ": apt-get install dataset-fashion-mnist "
                                       "(or set KILN_FASHION_MNIST)");
  const auto start = std::chrono::steady_clock::now();
  const rt::train_test data = rt::fashion_mnist(dir);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  BOOST_TEST_MESSAGE("loaded Fashion-MNIST in " << seconds << " s");

  BOOST_TEST(data.train.size() == 60000u);
  BOOST_TEST(data.test.size() == 10000u);
  for (const rt::dataset* d : {&data.train, &data.test}) {
    BOOST_TEST(d->sample_shape == (std::vector<int>{1, 28, 28}), boost::test_tools::per_element());
    BOOST_TEST(d->classes == 10);
    const auto [lo, hi] = std::minmax_element(d->x.begin(), d->x.end());
    BOOST_TEST(*lo == 0.0f);
    BOOST_TEST(*hi == 1.0f);
    const auto [lo_label, hi_label] = std::minmax_element(d->labels.begin(), d->labels.end());
    BOOST_TEST(*lo_label == 0);
    BOOST_TEST(*hi_label == 9);
  }
  // Every class is balanced in Fashion-MNIST: 6000 training images each.
  BOOST_TEST(std::count(data.train.labels.begin(), data.train.labels.end(), 7) == 6000);
}
