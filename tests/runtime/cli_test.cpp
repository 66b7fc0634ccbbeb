#define BOOST_TEST_MODULE runtime_cli
#include <boost/test/unit_test.hpp>

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <iostream>
#include <limits>
#include <numeric>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "kiln/runtime/app/cli.hpp"
#include "../support/runtime.hpp"
#include "kiln/core/error.hpp"
#include "kiln/runtime/data/csv.hpp"
#include "kiln/runtime/io/npy.hpp"
#include "kiln/runtime/io/safetensors.hpp"
#include "../support/rounding.hpp"

using namespace kiln;
using namespace kiln::test;

namespace {

// Redirects stdout and stderr to files while alive; the text is read after restore().
class capture {
 public:
  capture() : out_(std::tmpfile()), err_(std::tmpfile()) {
    std::cout.flush(), std::fflush(stdout), std::fflush(stderr);
    saved_out_ = dup(1), saved_err_ = dup(2);
    dup2(fileno(out_), 1), dup2(fileno(err_), 2);
  }
  ~capture() {
    restore();
    std::fclose(out_), std::fclose(err_);
  }
  void restore() {
    if (saved_out_ < 0) return;
    std::cout.flush(), std::fflush(stdout), std::fflush(stderr);
    dup2(saved_out_, 1), dup2(saved_err_, 2);
    close(saved_out_), close(saved_err_);
    saved_out_ = saved_err_ = -1;
  }
  std::string out() { return read(out_); }
  std::string err() { return read(err_); }

 private:
  std::string read(std::FILE* f) {
    restore();
    std::rewind(f);
    std::string s;
    for (int c; (c = std::fgetc(f)) != EOF;) s += static_cast<char>(c);
    return s;
  }
  std::FILE *out_, *err_;
  int saved_out_ = -1, saved_err_ = -1;
};

// A tiny Fashion-MNIST folder: 28x28 images whose class shows as a bright row.
void write_tiny_fashion_mnist(const fs::path& dir, std::uint32_t train, std::uint32_t test) {
  for (const auto& [prefix, n] : {std::pair{"train", train}, std::pair{"t10k", test}}) {
    bytes images(n * 28 * 28), labels(n);
    for (std::uint32_t i = 0; i < n; ++i) {
      labels[i] = static_cast<std::uint8_t>(i % 10);
      for (int col = 0; col < 28; ++col) images[i * 784 + labels[i] * 28 + col] = 255;
    }
    write_file(dir / (std::string(prefix) + "-images-idx3-ubyte.gz"),
               gzip(idx_file({n, 28, 28}, images)));
    write_file(dir / (std::string(prefix) + "-labels-idx1-ubyte.gz"), gzip(idx_file({n}, labels)));
  }
}

struct result {
  int code;
  std::string out, err;
};

struct fixture {
  temp_dir dir;
  rt::model_info defaults;
  std::optional<rt::run_options> seen;  // what the factory was given
  std::vector<int> model_input{1, 28, 28};
  std::vector<std::uint64_t>* args_seen = nullptr;  // the seed of every model made

  fixture() {
    write_tiny_fashion_mnist(dir.path(), 60, 20);
    defaults.input = {1, 28, 28};
    defaults.outputs = 10;
    defaults.batch = 16;
    defaults.epochs = 1;
    defaults.seed = 7;
    defaults.summary = "dense 784 -> 10";
  }

  result run(std::vector<std::string> args) {
    args.insert(args.begin(), "/path/to/trainer");
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    const rt::model_factory factory = [&](const rt::run_options& o) {
      seen = o;
      if (args_seen) args_seen->push_back(o.seed);
      return std::make_unique<linear_softmax>(model_input, 10, o.batch);
    };
    capture c;
    const int code = rt::run_cli(static_cast<int>(args.size()), argv.data(), defaults, factory);
    return {code, c.out(), c.err()};
  }
  result run_on_data(std::vector<std::string> args) {
    args.insert(args.begin(), {"--data", dir.path().string()});
    return run(std::move(args));
  }
};

bytes to_bytes(const std::string& s) { return bytes(s.begin(), s.end()); }

bool one_error_line(const std::string& err) {
  return err.starts_with("error: ") && err.find('\n') == err.size() - 1;
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(cli, fixture)

BOOST_AUTO_TEST_CASE(trains_and_prints_only_the_accuracy_on_stdout) {
  const fs::path out = dir / "out";
  const result r = run_on_data(
      {"--epochs", "3", "--batch", "8", "--threads", "2", "--seed", "11", "--out", out.string()});
  BOOST_TEST_CONTEXT("stderr: " << r.err) {
    BOOST_TEST(r.code == 0);
    BOOST_TEST(r.out.starts_with("test_accuracy="));
    BOOST_TEST(r.out.size() == std::string("test_accuracy=0.0000\n").size());
    BOOST_TEST(std::stod(r.out.substr(14)) > 0.9);
    BOOST_TEST(r.err.find("epoch 3/3") != std::string::npos);
    BOOST_TEST(r.err.find("confusion matrix") != std::string::npos);
  }
  BOOST_REQUIRE(seen);
  BOOST_TEST(seen->epochs == 3);
  BOOST_TEST(seen->batch == 8);
  BOOST_TEST(seen->threads == 2);
  BOOST_TEST(seen->seed == 11u);
  BOOST_TEST(seen->seed_set);
  BOOST_TEST(seen->data_dir == dir.path());
  BOOST_TEST(seen->out_dir == out);
  const std::string csv = read_text(out / "metrics.csv");
  BOOST_TEST(std::count(csv.begin(), csv.end(), '\n') == 4);
}

BOOST_AUTO_TEST_CASE(defaults_come_from_the_plan_and_quiet_is_quiet) {
  const result r = run_on_data({"--quiet"});
  BOOST_TEST(r.code == 0);
  BOOST_TEST(r.out.starts_with("test_accuracy="));
  BOOST_TEST(r.err.empty(), r.err);
  BOOST_REQUIRE(seen);
  BOOST_TEST(seen->epochs == 1);
  BOOST_TEST(seen->batch == 16);
  BOOST_TEST(seen->seed == 7u);
  BOOST_TEST(!seen->seed_set);
  BOOST_TEST(seen->threads == 1);
  BOOST_TEST(!seen->progress);
}

BOOST_AUTO_TEST_CASE(help_exits_zero) {
  const result r = run({"--help"});
  BOOST_TEST(r.code == 0);
  BOOST_TEST(r.out.find("--epochs") != std::string::npos);
  BOOST_TEST(r.out.find("dense 784 -> 10") != std::string::npos);
  BOOST_TEST(!seen);
}

BOOST_AUTO_TEST_CASE(bad_command_lines_exit_two) {
  const std::vector<std::vector<std::string>> bad = {
      {"--epochs", "0"},  {"--batch", "0"},   {"--batch", "-3"},   {"--threads", "0"},
      {"--epochs", "ab"}, {"--no-such-flag"}, {"--seed", "x"},     {"--seed", "-1"},
      {"--epochs"},       {"stray"},          {"--threads", "1.5"}};
  for (const auto& args : bad) {
    const result r = run_on_data(args);
    BOOST_TEST_CONTEXT(args.front() << " -> " << r.err) {
      BOOST_TEST(r.code == 2);
      BOOST_TEST(one_error_line(r.err));
      BOOST_TEST(r.out.empty());
    }
  }
  BOOST_TEST(!seen);
  BOOST_TEST(run_on_data({"--threads", "0"}).err ==
             "error: --threads: must be at least 1, got 0\n");
}

BOOST_AUTO_TEST_CASE(missing_data_exits_one_with_the_fix) {
  const result r = run({"--data", (dir / "nowhere").string()});
  BOOST_TEST(r.code == 1);
  BOOST_TEST(one_error_line(r.err), r.err);
  BOOST_TEST(r.err.find("apt-get install dataset-fashion-mnist") != std::string::npos);
  BOOST_TEST(r.out.empty());
}

BOOST_AUTO_TEST_CASE(model_that_does_not_fit_the_data_exits_one) {
  model_input = {1, 32, 32};
  const result r = run_on_data({"--quiet"});
  BOOST_TEST(r.code == 1);
  BOOST_TEST(one_error_line(r.err), r.err);
  BOOST_TEST(r.err.find("which do not fill the model's input 1x32x32") != std::string::npos, r.err);
}

BOOST_AUTO_TEST_CASE(factory_errors_exit_one) {
  const rt::model_factory failing = [](const rt::run_options&) -> std::unique_ptr<rt::model> {
    throw config_error("model", "cannot be built");
  };
  std::string arg0 = "trainer", arg1 = "--quiet";
  char* argv[] = {arg0.data(), arg1.data(), nullptr};
  capture c;
  const int code = rt::run_cli(2, argv, defaults, failing);
  BOOST_TEST(code == 1);
  BOOST_TEST(c.err() == "error: model: cannot be built\n");
}

BOOST_AUTO_TEST_CASE(members_train_from_consecutive_seeds_and_are_combined) {
  std::vector<std::uint64_t> seeds;
  const result r = [&] {
    args_seen = &seeds;
    return run_on_data({"--members", "3", "--epochs", "2", "--quiet"});
  }();
  args_seen = nullptr;
  BOOST_TEST_CONTEXT("stderr: " << r.err) {
    BOOST_TEST(r.code == 0);
    BOOST_TEST(r.out.find("member_0_test_accuracy=") == 0u);
    BOOST_TEST(r.out.find("member_2_test_accuracy=") != std::string::npos);
    BOOST_TEST(r.out.find("mean_member_test_accuracy=") != std::string::npos);
    BOOST_TEST(r.out.find("\ntest_accuracy=") != std::string::npos);
    // The shares of samples 0, 1, 2, 3 members get right: four, printed to 4 decimals (each
    // rounded by at most 0.00005; parsed and summed in double: a few ulps), summing to 1.
    const auto at = r.out.find("\nmembers_right=");
    BOOST_TEST_REQUIRE(at != std::string::npos);
    std::istringstream shares(r.out.substr(at + 15, r.out.find('\n', at + 1) - at - 15));
    std::vector<double> share;
    for (std::string v; std::getline(shares, v, ',');) share.push_back(std::stod(v));
    BOOST_TEST(share.size() == 4u);
    double total = 0;
    for (const double v : share) total += v;
    BOOST_TEST(std::abs(total - 1) <= 4 * 0.00005 + 8 * std::numeric_limits<double>::epsilon());
  }
  BOOST_TEST(seeds == std::vector<std::uint64_t>({7, 8, 9}), boost::test_tools::per_element());
  BOOST_TEST(run_on_data({"--members", "0"}).code == 2);
}

BOOST_AUTO_TEST_CASE(out_holds_weights_and_a_checkpoint_to_resume_from) {
  const fs::path out = dir / "run";
  const result stopped = run_on_data(
      {"--epochs", "2", "--batch", "8", "--max-steps", "3", "--out", out.string(), "--quiet"});
  BOOST_TEST(stopped.code == 0);
  BOOST_TEST(stopped.out.empty());  // no accuracy: the run is not over
  BOOST_TEST(fs::exists(out / "checkpoint.safetensors"));
  const result resumed =
      run_on_data({"--epochs", "2", "--batch", "8", "--out", out.string(), "--resume",
                   (out / "checkpoint.safetensors").string(), "--quiet"});
  BOOST_TEST_CONTEXT("stderr: " << resumed.err) {
    BOOST_TEST(resumed.code == 0);
    BOOST_TEST(resumed.out.starts_with("test_accuracy="));
  }
  BOOST_TEST(fs::exists(out / "model.safetensors"));
  const result wrong_seed = run_on_data({"--epochs", "2", "--batch", "8", "--seed", "3", "--resume",
                                         (out / "checkpoint.safetensors").string()});
  BOOST_TEST(wrong_seed.code == 1);
  BOOST_TEST(wrong_seed.err.find("seed: the checkpoint's run used 7, this one 3") !=
             std::string::npos);
}

// A CSV whose class (0..9) is the column holding the largest value, with a header.
std::string separable_csv(int rows, int seed) {
  std::string text = "f0,f1,f2,f3,class\n";
  for (int i = 0; i < rows; ++i) {
    const int c = (i * 7 + seed) % 4;
    for (int f = 0; f < 4; ++f) text += std::to_string(f == c ? 3 + (i % 5) : (i * f) % 3) + ",";
    text += std::to_string(c) + "\n";
  }
  return text;
}

BOOST_AUTO_TEST_CASE(trains_from_csv_files_and_saves_the_standardization_with_the_weights) {
  model_input = {4};
  const fs::path train = dir / "train.csv", test = dir / "test.csv", out = dir / "run";
  write_file(train, to_bytes(separable_csv(200, 0)));
  write_file(test, to_bytes(separable_csv(40, 1)));
  const result r = run({"--train", train.string(), "--test", test.string(), "--label-column",
                        "class", "--standardize", "--epochs", "3", "--out", out.string()});
  BOOST_TEST_CONTEXT("stderr: " << r.err) {
    BOOST_TEST(r.code == 0);
    BOOST_TEST(r.out.starts_with("test_accuracy="));
    BOOST_TEST(std::stod(r.out.substr(14)) > 0.9);
    BOOST_TEST(r.err.find("200 training and 40 test samples from " + train.string() + " and " +
                          test.string() + ", standardized") != std::string::npos);
  }
  const rt::tensor_file saved = rt::read_safetensors(out / "model.safetensors");
  BOOST_TEST(saved.find("kiln.standardize.mean"));
  BOOST_TEST(saved.find("kiln.standardize.std"));
  BOOST_TEST(saved.find("fc.weight"));

  // predict applies the statistics again: its labels are the accuracy's.
  const fs::path logits = dir / "logits.npy", proba = dir / "p.csv", labels = dir / "labels.npy";
  const std::string weights = (out / "model.safetensors").string();
  result p = run({"predict", "--weights", weights, "--input", test.string(), "--output",
                  logits.string(), "--label-column", "class"});
  BOOST_TEST(p.code == 0, p.err);
  BOOST_TEST(p.out == "predictions=40\n");
  const rt::named_tensor l = rt::read_npy(logits).tensors.at(0);
  BOOST_TEST(l.shape == std::vector<std::size_t>({40, 10}), boost::test_tools::per_element());
  p = run({"predict", "--weights", weights, "--input", test.string(), "--output", labels.string(),
           "--label-column", "class", "--labels", "--quiet"});
  BOOST_TEST(p.code == 0, p.err);
  const rt::named_tensor predicted = rt::read_npy(labels).tensors.at(0);
  BOOST_TEST((predicted.stored == rt::dtype::i64));
  const rt::dataset truth = rt::parse_csv(separable_csv(40, 1), "test", {.label_column = 4});
  long right = 0;
  for (std::size_t i = 0; i < 40; ++i) {
    const float* row = l.values.data() + i * 10;
    BOOST_TEST(predicted.values[i] == float(std::max_element(row, row + 10) - row));
    right += predicted.values[i] == float(truth.labels[i]);
  }
  // k/40 has at most 3 decimals: printed with %.4f it reads back as the double nearest k/40,
  // which right / 40.0 is too: bit for bit.
  BOOST_TEST(right / 40.0 == std::stod(r.out.substr(14)));
  p = run({"predict", "--weights", weights, "--input", test.string(), "--output", proba.string(),
           "--label-column", "class", "--proba", "--quiet"});
  BOOST_TEST(p.code == 0, p.err);
  const std::string csv = read_text(proba);
  BOOST_TEST(csv.starts_with("p0,p1,p2,p3,p4,p5,p6,p7,p8,p9\n"));
  BOOST_TEST(std::count(csv.begin(), csv.end(), '\n') == 41);
  const rt::dataset rows = rt::parse_csv(csv, "p.csv", {.label_column = -1});
  // softmax_rows divides in double and rounds each probability to float once (u/2 of it, u/2 of
  // the row's sum of 1 together); %.9g writes a float exactly; the exponentials, the sums (the
  // kernel's and this one, 10 terms each) and the division in double: 32 roundings of 2^-53.
  const double written = kiln::test::u / 2 + 32 * 0x1p-53;
  for (std::size_t i = 0; i < rows.size(); ++i)
    BOOST_TEST(std::abs(std::accumulate(rows.x.begin() + long(i * 10),
                                        rows.x.begin() + long(i * 10 + 10), 0.0) -
                        1.0) <= written);
}

BOOST_AUTO_TEST_CASE(a_validation_split_and_init_from_earlier_weights) {
  model_input = {4};
  const fs::path all = dir / "all.csv", out = dir / "first";
  write_file(all, to_bytes(separable_csv(100, 0)));
  result r = run({"--train", all.string(), "--val-split", "0.2", "--quiet", "--out", out.string()});
  BOOST_TEST(r.code == 0, r.err);
  r = run({"--train", all.string(), "--val-split", "0.2", "--init-from",
           (out / "model.safetensors").string(), "--epochs", "1"});
  BOOST_TEST(r.code == 0, r.err);
  BOOST_TEST(r.err.find("80 training and 20 test samples") != std::string::npos, r.err);
  model_input = {5};  // other shapes: refused, naming the tensor, before any training
  r = run({"--train", all.string(), "--val-split", "0.2", "--label-column", "0", "--init-from",
           (out / "model.safetensors").string()});
  BOOST_TEST(r.code == 1);
  BOOST_TEST(one_error_line(r.err), r.err);
  BOOST_TEST(r.err.find("tensor 'fc.weight': shape 10x4, the model's 'fc.weight' is 10x5") !=
                 std::string::npos,
             r.err);
}

BOOST_AUTO_TEST_CASE(data_that_does_not_fit_the_model_exits_one_before_training) {
  model_input = {4};
  const fs::path good = dir / "good.csv", wide = dir / "wide.csv", label = dir / "label.csv";
  write_file(good, to_bytes(separable_csv(20, 0)));
  write_file(wide, to_bytes("a,b,c,d,e,class\n1,2,3,4,5,0\n"));
  write_file(label, to_bytes("1,2,3,4,12\n"));
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"--train", wide.string(), "--test", wide.string()},
       wide.string() + ": 5 feature columns (6 columns, 1 of them labels) do not fill the "
                       "model's input 4 (4 values)"},
      {{"--train", good.string(), "--test", label.string()},
       label.string() + ": line 1: label 12 (column 4) is not a class of the model (0..9"},
      {{"--train", good.string(), "--test", (dir / "missing.csv").string()},
       (dir / "missing.csv").string() + ": no such file"},
  };
  for (const auto& [args, message] : cases) {
    const result r = run(args);
    BOOST_TEST_CONTEXT(r.err) {
      BOOST_TEST(r.code == 1);
      BOOST_TEST(one_error_line(r.err));
      BOOST_TEST(r.err.find(message) != std::string::npos);
      BOOST_TEST(r.err.find("epoch") == std::string::npos);
      BOOST_TEST(r.out.empty());
    }
  }
  const std::vector<std::vector<std::string>> usage = {
      {"--test", good.string()},
      {"--train", good.string()},
      {"--train", good.string(), "--test", good.string(), "--val-split", "0.5"},
      {"--train", good.string(), "--val-split", "1.5"},
      {"--train", good.string(), "--data", dir.path().string(), "--val-split", "0.5"},
      {"--data", dir.path().string(), "--init-lenient"},
      {"predict", "--weights", "w.safetensors", "--input", "x.npy"},
      {"predict", "--weights", "w", "--input", "x.npy", "--output", "y.txt"},
      {"predict", "--weights", "w", "--input", "x", "--output", "y.npy", "--proba", "--labels"},
      {"export", "--weights", "w.safetensors"},
  };
  for (const auto& args : usage) {
    const result r = run(args);
    BOOST_TEST_CONTEXT(args.front() << " " << args.back() << " -> " << r.err) {
      BOOST_TEST(r.code == 2);
      BOOST_TEST(one_error_line(r.err));
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()
