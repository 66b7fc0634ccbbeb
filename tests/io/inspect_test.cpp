// kiln-inspect and the readers it adds to runtime/data (CIFAR-10 binary, CSV): what it prints
// for every format, exit codes, and malformed files rejected with one line naming the problem.
#define BOOST_TEST_MODULE io_inspect
#include <boost/test/unit_test.hpp>

#include <sstream>

#include "../support/runtime.hpp"
#include "kiln/runtime/app/inspect.hpp"
#include "kiln/runtime/data/cifar10.hpp"
#include "kiln/runtime/data/csv.hpp"
#include "kiln/core/error.hpp"
#include "kiln/runtime/io/checkpoint.hpp"
#include "kiln/runtime/io/npy.hpp"
#include "kiln/runtime/io/npz.hpp"
#include "kiln/runtime/io/safetensors.hpp"

using namespace kiln;
using kiln::test::bytes;
using kiln::test::expect_error;

namespace {

std::string inspected(const std::filesystem::path& p) {
  std::ostringstream out;
  rt::inspect(p, out);
  return out.str();
}

bytes cifar_records(std::initializer_list<std::uint8_t> labels) {
  bytes out;
  for (std::uint8_t l : labels) {
    out.push_back(l);
    for (int i = 0; i < 3072; ++i) out.push_back(static_cast<std::uint8_t>(i % 256));
  }
  return out;
}

bytes text(const std::string& s) { return bytes(s.begin(), s.end()); }

}  // namespace

BOOST_AUTO_TEST_CASE(cifar10_binary_records) {
  test::temp_dir dir;
  const auto a = test::write_file(dir / "data_batch_1.bin", cifar_records({3, 9}));
  const auto b = test::write_file(dir / "data_batch_2.bin", cifar_records({0}));
  const auto d = rt::read_cifar10({a, b});
  BOOST_TEST(d.size() == 3u);
  BOOST_TEST(d.sample_shape == std::vector<int>({3, 32, 32}), boost::test_tools::per_element());
  BOOST_TEST(d.labels == std::vector<std::int32_t>({3, 9, 0}), boost::test_tools::per_element());
  BOOST_TEST(d.x[1] == 1.0f / 255.0f);
  bytes cut = cifar_records({1});
  cut.pop_back();
  test::write_file(dir / "cut.bin", cut);
  expect_error<file_error>([&] { rt::read_cifar10({dir / "cut.bin"}); }, (dir / "cut.bin").string(),
                           "3072 bytes are not a whole number of 3073-byte records");
  test::write_file(dir / "label.bin", cifar_records({10}));
  expect_error<file_error>([&] { rt::read_cifar10({dir / "label.bin"}); },
                           (dir / "label.bin").string(), "label 10 of record 0 is not below 10");
}

BOOST_AUTO_TEST_CASE(csv_with_header_labels_and_errors) {
  test::temp_dir dir;
  const auto p =
      test::write_file(dir / "d.csv", text("label,x,y\n1, 0.5,2\n0,-1e3,3\r\n\n2,4,5\n"));
  const auto d = rt::read_csv(p);
  BOOST_TEST(d.size() == 3u);
  BOOST_TEST(d.classes == 3);
  BOOST_TEST(d.x == std::vector<float>({0.5f, 2, -1000, 3, 4, 5}),
             boost::test_tools::per_element());
  const auto f = rt::read_csv(p, {.label_column = -1});
  BOOST_TEST(f.sample_shape == std::vector<int>({3}), boost::test_tools::per_element());
  BOOST_TEST(f.labels.empty());

  const auto bad = [&](const std::string& content, const std::string& problem) {
    const auto path = test::write_file(dir / "bad.csv", text(content));
    expect_error<file_error>([&] { rt::read_csv(path); }, path.string(), problem);
  };
  bad("1,2\n0,3,4\n", "line 2: 3 fields, the first line has 2");
  bad("1,2\n0,abc\n", "line 2: field 2 'abc' is not a finite number");
  bad("1,2\n0,inf\n", "line 2: field 2 'inf' is not a finite number");
  bad("1.5,2\n", "line 1: label '1.5' is not an integer in [0, 65536)");
  bad("-1,2\n", "label '-1' is not an integer");
  bad("a,b\n", "no data line");
  bad("", "the file is empty");
  bad("1\n", "line 1: no feature besides the label");
  // A first line with some numbers is data, not a header to skip: its bad field is an error.
  bad("1,nan,2\n0,1,2\n", "line 1: field 2 'nan' is not a finite number");
  bad(std::string("1,2\0,3\n", 7), "line 1: field 2 '2\\x00' is not a finite number");

  // Options that cannot work are refused before reading.
  expect_error<config_error>([&] { rt::read_csv(p, {.label_column = -2}); }, "label_column",
                             "must be -1 (no labels) or a column index");
  expect_error<config_error>([&] { rt::read_csv(p, {.delimiter = '.'}); }, "delimiter",
                             "'.' can be part of a number");
  expect_error<config_error>([&] { rt::read_csv(p, {.delimiter = '\n'}); }, "delimiter",
                             "'\\x0A' can be part of a number or ends lines");
  BOOST_TEST(rt::read_csv(test::write_file(dir / "t.csv", text("1\t2\t3\n")), {.delimiter = '\t'})
                 .x.size() == 2u);
}

BOOST_AUTO_TEST_CASE(inspect_prints_what_kiln_reads) {
  test::temp_dir dir;
  const std::vector<float> w = {1, 2, 3, 4, 5, 6};
  const std::vector<rt::tensor_ref> ts = {{"fc1.weight", {2, 3}, w}};
  rt::write_safetensors(dir / "w.safetensors", ts, {{"note", "hello"}});
  std::string out = inspected(dir / "w.safetensors");
  BOOST_TEST(out.find("safetensors, 1 tensor") != std::string::npos);
  BOOST_TEST(out.find("fc1.weight  F32   2x3") != std::string::npos);
  BOOST_TEST(out.find("note = hello") != std::string::npos);

  test::linear_softmax m({4}, 3, 8);
  rt::save_checkpoint(dir / "c.safetensors", m, {{1, 2, 3.0, 4, 16, 0.5}, 5, 8});
  out = inspected(dir / "c.safetensors");
  BOOST_TEST(out.find("kiln checkpoint") != std::string::npos);
  BOOST_TEST(out.find("checkpoint: step 0, epoch 2 after 2 batches of 8, loader seed 5") !=
             std::string::npos);
  // Its metadata is checked as a resume would check it.
  rt::write_safetensors(dir / "c.safetensors", ts, {{"kiln.checkpoint", "1"}});
  expect_error<file_error>([&] { inspected(dir / "c.safetensors"); },
                           (dir / "c.safetensors").string(),
                           "checkpoint metadata 'kiln.fingerprint': missing");
  rt::write_npz(dir / "w.npz", ts);
  BOOST_TEST(inspected(dir / "w.npz").find("npz, 1 tensor") != std::string::npos);
  rt::write_npy(dir / "w.npy", std::vector<std::size_t>{6}, w);
  BOOST_TEST(inspected(dir / "w.npy").find("F32   6 ") != std::string::npos);
  test::write_file(dir / "images-idx3-ubyte", test::idx_file({2, 2, 2}, test::counting(8)));
  BOOST_TEST(inspected(dir / "images-idx3-ubyte").find("IDX, unsigned bytes, 2x2x2") !=
             std::string::npos);
  test::write_file(dir / "labels.gz", test::gzip(test::idx_file({3}, {0, 1, 2})));
  BOOST_TEST(inspected(dir / "labels.gz").find("IDX, unsigned bytes, 3") != std::string::npos);
  test::write_file(dir / "test_batch.bin", cifar_records({1, 1, 4}));
  out = inspected(dir / "test_batch.bin");
  BOOST_TEST(out.find("CIFAR-10 binary, 3 samples of 3x32x32") != std::string::npos);
  BOOST_TEST(out.find("per class: 0 2 0 0 1 0 0 0 0 0") != std::string::npos);
  test::write_file(dir / "d.csv", text("1,2,3\n0,4,5\n"));
  BOOST_TEST(inspected(dir / "d.csv").find("2 samples of 2") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(exit_codes_and_one_line_errors) {
  test::temp_dir dir;
  const std::vector<float> w = {1};
  rt::write_safetensors(dir / "ok.safetensors", std::vector<rt::tensor_ref>{{"a", {1}, w}});
  test::write_file(dir / "bad.safetensors", {1, 2, 3});
  test::write_file(dir / "what.xyz", text("hello"));
  const auto run = [](std::vector<std::string> args) {
    args.insert(args.begin(), "kiln-inspect");
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    return rt::inspect_main(int(argv.size()), argv.data());
  };
  BOOST_TEST(run({(dir / "ok.safetensors").string()}) == 0);
  BOOST_TEST(run({(dir / "bad.safetensors").string()}) == 1);
  BOOST_TEST(run({(dir / "what.xyz").string()}) == 1);
  BOOST_TEST(run({(dir / "missing.npy").string()}) == 1);
  BOOST_TEST(run({}) == 2);
  expect_error<file_error>([&] { inspected(dir / "what.xyz"); }, (dir / "what.xyz").string(),
                           "unknown format");
}
