// rt::load_dataset: every source the standard command line reads (CSV, .csv.gz, .npz, IDX and
// CIFAR-10 folders), label columns, the validation split, standardization and its statistics
// travelling with the weights; and every mismatch between data and model refused with one line
// naming the file (and the line, field or array) before anything trains.
#define BOOST_TEST_MODULE runtime_load
#include <boost/test/unit_test.hpp>

#include <zip.h>

#include <cmath>
#include <cstring>
#include <numeric>

#include "kiln/runtime/data/load.hpp"
#include "kiln/core/error.hpp"
#include "kiln/runtime/io/safetensors.hpp"
#include "kiln/runtime/io/trained.hpp"
#include "../support/runtime.hpp"

using namespace kiln;
using namespace kiln::test;

namespace {

rt::model_info classifier(std::vector<int> input, int classes) {
  rt::model_info m;
  m.input = std::move(input);
  m.outputs = classes;
  m.kind = rt::task::classify;
  return m;
}

rt::model_info regression(std::vector<int> input, int outputs) {
  rt::model_info m = classifier(std::move(input), outputs);
  m.kind = rt::task::regress;
  return m;
}

fs::path write_text(const fs::path& path, const std::string& text) {
  return write_file(path, bytes(text.begin(), text.end()));
}

// A .npy file: header as NumPy writes it, then the raw little-endian values.
template <class T>
bytes npy(const char* descr, const std::vector<std::size_t>& shape, const std::vector<T>& v) {
  std::string dims;
  for (std::size_t d : shape) dims += std::to_string(d) + ",";
  std::string header =
      std::string("{'descr': '") + descr + "', 'fortran_order': False, 'shape': (" + dims + "), }";
  header.append((64 - (10 + header.size() + 1) % 64) % 64, ' ');
  header += '\n';
  bytes out(10 + header.size() + v.size() * sizeof(T));
  const std::uint8_t magic[8] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0};
  std::memcpy(out.data(), magic, 8);
  out[8] = std::uint8_t(header.size() & 0xff), out[9] = std::uint8_t(header.size() >> 8);
  std::memcpy(out.data() + 10, header.data(), header.size());
  if (!v.empty()) std::memcpy(out.data() + 10 + header.size(), v.data(), v.size() * sizeof(T));
  return out;
}

fs::path write_npz(const fs::path& path, const std::vector<std::pair<std::string, bytes>>& arrays) {
  int err = 0;
  zip_t* z = zip_open(path.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &err);
  BOOST_REQUIRE(z);
  for (const auto& [name, content] : arrays) {
    zip_source_t* s = zip_source_buffer(z, content.data(), content.size(), 0);
    zip_file_add(z, (name + ".npy").c_str(), s, 0);
  }
  BOOST_REQUIRE(zip_close(z) == 0);
  return path;
}

// Expects load_dataset(spec, model) to fail with an E whose one-line message starts with
// `subject` and contains `problem`.
template <class E = file_error>
void refused(const rt::data_spec& spec, const rt::model_info& m, const std::string& subject,
             const std::string& problem) {
  expect_error<E>([&] { rt::load_dataset(spec, m); }, subject, problem);
}

struct files {
  temp_dir dir;
  fs::path operator/(const std::string& name) const { return dir / name; }
  rt::data_spec csv(const std::string& train, const std::string& test) {
    rt::data_spec s;
    s.train = write_text(dir / "train.csv", train);
    s.test = write_text(dir / "test.csv", test);
    return s;
  }
};

const std::string four_rows =
    "a,b,c,d,label\n"
    "1,2,3,4,0\n"
    "5,6,7,8,2\n"
    "\n"
    "9,10,11,12,1\n"
    "13,14,15,16,2\n";

}  // namespace

BOOST_FIXTURE_TEST_SUITE(load, files)

BOOST_AUTO_TEST_CASE(csv_with_a_header_fills_an_image_input_row_major) {
  const rt::loaded_data d =
      rt::load_dataset(csv(four_rows, "a,b,c,d,label\n0,0,0,1,1\n"), classifier({1, 2, 2}, 3));
  BOOST_TEST(d.train.size() == 4u);
  BOOST_TEST(d.train.sample_shape == std::vector<int>({1, 2, 2}), boost::test_tools::per_element());
  BOOST_TEST(d.train.x[4] == 5.0f);  // sample 1, value 0
  BOOST_TEST(d.train.x[15] == 16.0f);
  BOOST_TEST(d.train.labels == std::vector<std::int32_t>({0, 2, 1, 2}),
             boost::test_tools::per_element());
  BOOST_TEST(d.train.classes == 3);
  BOOST_TEST(d.test.size() == 1u);
  BOOST_TEST(d.stats.empty());
}

BOOST_AUTO_TEST_CASE(the_label_column_by_name_by_index_and_without_a_header) {
  rt::data_spec s = csv("label,a,b\n2,0.5,1.5\n0,2.5,3.5\n", "label,a,b\n1,1,1\n");
  s.label_column = "label";
  rt::loaded_data d = rt::load_dataset(s, classifier({2}, 3));
  BOOST_TEST(d.train.labels == std::vector<std::int32_t>({2, 0}), boost::test_tools::per_element());
  BOOST_TEST(d.train.x == std::vector<float>({0.5f, 1.5f, 2.5f, 3.5f}),
             boost::test_tools::per_element());
  s = csv("2,0.5,1.5\n0,2.5,3.5\n", "1,1,1\n");  // no header: by index
  s.label_column = "0";
  d = rt::load_dataset(s, classifier({2}, 3));
  BOOST_TEST(d.train.labels == std::vector<std::int32_t>({2, 0}), boost::test_tools::per_element());
  s.label_column = "label";
  refused(s, classifier({2}, 3), s.train.string(),
          "--label-column 'label': the file has no header");
  s.label_column = "7";
  refused(s, classifier({2}, 3), s.train.string(), "--label-column 7: the file has 3 columns");
  s = csv(four_rows, four_rows);
  s.label_column = "price";
  refused(s, classifier({4}, 3), s.train.string(),
          "--label-column 'price': no such column (the header has a, b, c, d, label)");
  s.label_column = "a,b";
  refused<config_error>(s, classifier({3}, 3), "--label-column",
                        "a classifier takes one label column, got 2");
}

BOOST_AUTO_TEST_CASE(regression_targets_from_named_columns_or_the_last_ones) {
  rt::data_spec s = csv("x1,y1,x2,y2\n1,10,2,20\n3,30,4,40\n", "x1,y1,x2,y2\n5,50,6,60\n");
  s.label_column = "y2,y1";
  rt::loaded_data d = rt::load_dataset(s, regression({2}, 2));
  BOOST_TEST(d.train.x == std::vector<float>({1, 2, 3, 4}), boost::test_tools::per_element());
  BOOST_TEST(d.train.targets == std::vector<float>({20, 10, 40, 30}),
             boost::test_tools::per_element());
  BOOST_TEST(d.train.target_size == 2);
  s.label_column.clear();  // the last two columns
  d = rt::load_dataset(s, regression({2}, 2));
  BOOST_TEST(d.train.x == std::vector<float>({1, 10, 3, 30}), boost::test_tools::per_element());
  BOOST_TEST(d.train.targets == std::vector<float>({2, 20, 4, 40}),
             boost::test_tools::per_element());
  s.label_column = "y1";
  refused<config_error>(s, regression({3}, 2), "--label-column",
                        "1 target column for a model with 2 outputs");
}

BOOST_AUTO_TEST_CASE(gzipped_csv_reads_as_the_plain_one) {
  const rt::loaded_data plain = rt::load_dataset(csv(four_rows, four_rows), classifier({4}, 3));
  rt::data_spec s;
  s.train = write_file(dir / "train.csv.gz", gzip(bytes(four_rows.begin(), four_rows.end())));
  s.test = write_file(dir / "test.CSV.GZ", gzip(bytes(four_rows.begin(), four_rows.end())));
  const rt::loaded_data zipped = rt::load_dataset(s, classifier({4}, 3));
  BOOST_TEST(zipped.train.x == plain.train.x, boost::test_tools::per_element());
  BOOST_TEST(zipped.test.labels == plain.test.labels, boost::test_tools::per_element());
  bytes broken = gzip(bytes(four_rows.begin(), four_rows.end()));
  broken.erase(broken.end() - 6, broken.end());  // the CRC and length gone
  write_file(s.train, broken);
  refused(s, classifier({4}, 3), s.train.string(), "truncated gzip stream");
}

BOOST_AUTO_TEST_CASE(npz_uint8_features_are_scaled_float_ones_are_not) {
  rt::data_spec s;
  s.train = write_npz(
      dir / "train.npz",
      {{"x", npy<std::uint8_t>("|u1", {3, 2, 2}, {0, 51, 102, 255, 1, 2, 3, 4, 5, 6, 7, 8})},
       {"y", npy<std::int64_t>("<i8", {3}, {1, 0, 1})},
       {"unused", npy<float>("<f4", {1}, {7})}});
  s.test = write_npz(dir / "test.npz", {{"x", npy<double>("<f8", {1, 4}, {0.25, 2, -3, 4})},
                                        {"y", npy<std::int32_t>("<i4", {1}, {1})}});
  const rt::loaded_data d = rt::load_dataset(s, classifier({1, 2, 2}, 2));
  BOOST_TEST(d.train.x[1] == 51.0f / 255.0f);
  BOOST_TEST(d.train.x[3] == 1.0f);
  BOOST_TEST(d.train.labels == std::vector<std::int32_t>({1, 0, 1}),
             boost::test_tools::per_element());
  BOOST_TEST(d.test.x == std::vector<float>({0.25f, 2, -3, 4}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(npz_regression_targets_and_other_array_names) {
  rt::data_spec s;
  s.x_key = "features";
  s.y_key = "price";
  s.train = write_npz(dir / "a.npz", {{"features", npy<float>("<f4", {2, 3}, {1, 2, 3, 4, 5, 6})},
                                      {"price", npy<double>("<f8", {2, 2}, {0.5, 1, 1.5, 2})}});
  s.test = s.train;
  const rt::loaded_data d = rt::load_dataset(s, regression({3}, 2));
  BOOST_TEST(d.train.targets == std::vector<float>({0.5f, 1, 1.5f, 2}),
             boost::test_tools::per_element());
  s.y_key = "y";
  refused(s, regression({3}, 2), s.train.string(),
          "no array 'y' (the file has features, price); name another with --y-key");
  s.y_key = "price";
  refused(s, regression({3}, 3), s.train.string(), "array 'price' is 2x2; the model has 3 outputs");
}

BOOST_AUTO_TEST_CASE(idx_and_cifar10_folders) {
  const fs::path idx = dir / "idx";
  fs::create_directories(idx);
  for (const auto& [prefix, n] : {std::pair{"train", 6u}, std::pair{"t10k", 3u}}) {
    bytes images(n * 4 * 3), labels(n);
    for (std::uint32_t i = 0; i < n; ++i) labels[i] = std::uint8_t(i % 4), images[i * 12] = 255;
    write_file(idx / (std::string(prefix) + "-images-idx3-ubyte.gz"),
               gzip(idx_file({n, 4, 3}, images)));
    write_file(idx / (std::string(prefix) + "-labels-idx1-ubyte"), idx_file({n}, labels));
  }
  rt::data_spec s;
  s.dir = idx;
  rt::loaded_data d = rt::load_dataset(s, classifier({1, 4, 3}, 4));
  BOOST_TEST(d.train.size() == 6u);
  BOOST_TEST(d.test.size() == 3u);
  BOOST_TEST(d.train.x[0] == 1.0f);
  BOOST_TEST(d.train.labels[5] == 1);
  BOOST_TEST(rt::load_dataset(s, classifier({12}, 4)).train.size() == 6u);  // flat is fine
  refused(s, classifier({1, 4, 4}, 4), (idx / "train-images-idx3-ubyte.gz").string(),
          "its images are 1x4x3 (12 values), which do not fill the model's input 1x4x4");
  refused(s, classifier({1, 4, 3}, 3), (idx / "train-labels-idx1-ubyte").string(),
          "label 3 at index 3 is not below 3 classes");
  refused<config_error>(s, regression({12}, 1), "--data", "this model is a regression");

  const fs::path cifar = dir / "cifar" / "cifar-10-batches-bin";
  fs::create_directories(cifar);
  for (const char* name : {"data_batch_1.bin", "data_batch_2.bin", "test_batch.bin"}) {
    bytes records(2 * 3073, 10);
    records[0] = 9, records[3073] = 2;
    write_file(cifar / name, records);
  }
  s.dir = dir / "cifar";
  d = rt::load_dataset(s, classifier({3, 32, 32}, 10));
  BOOST_TEST(d.train.size() == 4u);
  BOOST_TEST(d.test.labels == std::vector<std::int32_t>({9, 2}), boost::test_tools::per_element());
  BOOST_TEST(d.train.x[1] == 10.0f / 255.0f);
  refused(s, classifier({3, 32, 32}, 5), (cifar / "data_batch_1.bin").string(),
          "label 9 of sample 0 is not a class of the model (0..4, the model's 5 classes)");
  s.dir = dir.path();
  refused(s, classifier({3, 32, 32}, 10), dir.path().string(),
          "holds neither an IDX dataset (train-images-idx3-ubyte[.gz], ...) nor CIFAR-10");
  s.dir = dir / "nowhere";
  refused(s, classifier({3, 32, 32}, 10), s.dir.string(), "no such folder");
}

BOOST_AUTO_TEST_CASE(the_validation_split_is_seeded_and_partitions_the_training_file) {
  std::string text;
  for (int i = 0; i < 20; ++i) text += std::to_string(i) + "," + std::to_string(i % 2) + "\n";
  rt::data_spec s;
  s.train = write_text(dir / "all.csv", text);
  s.val_split = 0.25;
  s.seed = 3;
  const rt::loaded_data a = rt::load_dataset(s, classifier({1}, 2));
  BOOST_TEST(a.train.size() == 15u);
  BOOST_TEST(a.test.size() == 5u);
  std::vector<float> all = a.train.x;
  all.insert(all.end(), a.test.x.begin(), a.test.x.end());
  std::sort(all.begin(), all.end());
  std::vector<float> expected(20);
  std::iota(expected.begin(), expected.end(), 0.0f);
  BOOST_TEST(all == expected, boost::test_tools::per_element());
  for (std::size_t i = 0; i < a.test.size(); ++i)  // labels travel with their samples
    BOOST_TEST(a.test.labels[i] == int(a.test.x[i]) % 2);
  BOOST_TEST(std::is_sorted(a.test.x.begin(), a.test.x.end()));  // the file's order kept
  BOOST_TEST(rt::load_dataset(s, classifier({1}, 2)).test.x == a.test.x,
             boost::test_tools::per_element());
  s.seed = 4;
  BOOST_TEST(rt::load_dataset(s, classifier({1}, 2)).test.x != a.test.x);
  s.val_split = 0.01;
  refused<config_error>(s, classifier({1}, 2), "--val-split", "holds out 0; both parts need");
  s.val_split = 0;
  refused<config_error>(s, classifier({1}, 2), "--train", "needs --test FILE, or --val-split F");
}

BOOST_AUTO_TEST_CASE(standardization_uses_the_training_statistics_everywhere) {
  // Feature 0: 1, 3 (mean 2, std 1); feature 1: constant 5 (only centred).
  rt::data_spec s = csv("1,5,0\n3,5,1\n", "5,7,0\n");
  s.standardize = true;
  const rt::loaded_data d = rt::load_dataset(s, classifier({2}, 2));
  BOOST_TEST(d.stats.mean == std::vector<float>({2, 5}), boost::test_tools::per_element());
  BOOST_TEST(d.stats.stddev == std::vector<float>({1, 1}), boost::test_tools::per_element());
  BOOST_TEST(d.train.x == std::vector<float>({-1, 0, 1, 0}), boost::test_tools::per_element());
  BOOST_TEST(d.test.x == std::vector<float>({3, 2}), boost::test_tools::per_element());

  // Saved with the weights, taken out again by load_trained, refused when damaged.
  linear_softmax m({2}, 2, 4);
  rt::save_trained(m, d.stats, dir / "model.safetensors");
  linear_softmax back({2}, 2, 4);
  const rt::standardization again = rt::load_trained(back, dir / "model.safetensors");
  BOOST_TEST(again.mean == d.stats.mean, boost::test_tools::per_element());
  BOOST_TEST(again.stddev == d.stats.stddev, boost::test_tools::per_element());
  linear_softmax wider({3}, 2, 4);
  expect_error<file_error>([&] { rt::load_trained(wider, dir / "model.safetensors"); },
                           (dir / "model.safetensors").string(),
                           "tensor 'kiln.standardize.mean' has 2 features, the model's input 3");
  const float zero[2] = {0, 0};
  const std::vector<rt::tensor_ref> bad = {{"kiln.standardize.mean", {2}, zero},
                                           {"kiln.standardize.std", {2}, zero}};
  rt::write_safetensors(dir / "bad.safetensors", bad);
  expect_error<file_error>([&] { rt::load_trained(back, dir / "bad.safetensors"); },
                           (dir / "bad.safetensors").string(), "its std is not positive");
}

BOOST_AUTO_TEST_CASE(every_mismatch_is_one_line_naming_the_file) {
  const auto m = classifier({4}, 3);
  rt::data_spec s = csv(four_rows, "1,2,3\n");
  refused(s, m, s.test.string(), "3 columns, the training file " + s.train.string() + " has 5");
  s = csv(four_rows, four_rows);
  refused(s, classifier({1, 2, 3}, 3), s.train.string(),
          "4 feature columns (5 columns, 1 of them labels) do not fill the model's input 1x2x3 "
          "(6 values)");
  refused(s, classifier({4}, 2), s.train.string(),
          "line 3: label 2 ('label') is not a class of the model (0..1, the model's 2 classes)");
  s = csv("1,2,3,4,0.5\n", four_rows);
  refused(s, m, s.train.string(), "line 1: label 0.5 (column 4) is not a class of the model");
  s = csv("1,2,3,4,0\n1,2,x,4,0\n", four_rows);
  refused(s, m, s.train.string(), "line 2: field 3 'x' is not a finite number");
  s = csv("1,2,3,4,0\n1,,3,4,0\n", four_rows);
  refused(s, m, s.train.string(), "line 2: field 2 '' is not a finite number");
  s = csv("1,2,3,4,0\n1,nan,3,4,0\n", four_rows);
  refused(s, m, s.train.string(), "line 2: field 2 'nan' is not a finite number");
  s = csv("1,2,3,4,0\n1,2,3,4\n", four_rows);
  refused(s, m, s.train.string(), "line 2: 4 fields, the first line has 5");
  s = csv("", four_rows);
  refused(s, m, s.train.string(), "the file is empty");
  s = csv("a,b,c,d,label\n\n", four_rows);
  refused(s, m, s.train.string(), "no data line");
  s.train = write_text(dir / "train.tsv", "1");
  refused(s, m, s.train.string(), "unknown data file extension '.tsv'");

  const bytes y = npy<std::int64_t>("<i8", {2}, {0, 1});
  const auto npz_refused = [&](const std::vector<std::pair<std::string, bytes>>& arrays,
                               const rt::model_info& model, const std::string& problem) {
    s.train = s.test = write_npz(dir / "bad.npz", arrays);
    refused(s, model, s.train.string(), problem);
  };
  npz_refused({{"y", y}}, m, "no array 'x' (the file has y); name another with --x-key");
  npz_refused({{"x", npy<std::int64_t>("<i8", {2, 4}, {1, 2, 3, 4, 5, 6, 7, 8})}, {"y", y}}, m,
              "array 'x' has dtype I64; features must be uint8, float32 or float64");
  npz_refused({{"x", npy<float>("<f4", {2, 4}, {1, 2, 3, 4, 5, 6, 7, 8})},
               {"y", npy<float>("<f4", {2}, {0, 1})}},
              m, "array 'y' holds F32 values; a classifier takes integer class labels");
  npz_refused({{"x", npy<float>("<f4", {2, 4}, {1, 2, 3, 4, 5, 6, 7, 8})},
               {"y", npy<std::int64_t>("<i8", {2}, {0, 3})}},
              m, "array 'y': label 3 of sample 1 is not a class of the model (0..2");
  npz_refused({{"x", npy<float>("<f4", {2, 4}, {1, 2, 3, 4, 5, 6, 7, 8})},
               {"y", npy<std::int64_t>("<i8", {3}, {0, 1, 2})}},
              m, "array 'y' is 3: 3 rows for the 2 samples of the features");
  npz_refused({{"x", npy<float>("<f4", {2, 4}, {1, 2, 3, NAN, 5, 6, 7, 8})}, {"y", y}}, m,
              "array 'x': value 3 of sample 0 is NaN");
  npz_refused({{"x", npy<double>("<f8", {2, 4}, {1, 2, 3, 4, 5, 6, 7, 1e300})}, {"y", y}}, m,
              "array 'x': value 3 of sample 1 is infinite");
  npz_refused({{"x", npy<float>("<f4", {0, 4}, {})}, {"y", npy<std::int64_t>("<i8", {0}, {})}}, m,
              "array 'x' holds no samples (shape 0x4)");
  npz_refused({{"x", npy<float>("<f4", {2, 5}, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10})}, {"y", y}}, m,
              "array 'x' is 2x5: 5 values per sample do not fill the model's input 4 (4 values)");
  // Same count, another layout: channels last against the model's channels first.
  npz_refused(
      {{"x", npy<std::uint8_t>("|u1", {2, 2, 2, 3}, std::vector<std::uint8_t>(24, 1))}, {"y", y}},
      classifier({3, 2, 2}, 3),
      "array 'x' holds samples shaped 2x2x3, the model takes 3x2x2 (channels first");
  // Widths compared before the model: a test file of another shape names itself.
  s.train = write_npz(dir / "w.npz",
                      {{"x", npy<float>("<f4", {2, 5}, std::vector<float>(10, 1))}, {"y", y}});
  s.test = write_npz(dir / "t.npz",
                     {{"x", npy<float>("<f4", {2, 4}, std::vector<float>(8, 1))}, {"y", y}});
  refused(
      s, m, s.test.string(),
      "samples of 4 values, the training file " + s.train.string() + " has samples of 5 values");
}

BOOST_AUTO_TEST_CASE(features_alone_for_predict) {
  // No --label-column: every column a feature; with it, that column is dropped.
  const fs::path f = write_text(dir / "in.csv", "a,b,label\n1,2,0\n3,4,1\n");
  rt::data_spec s;
  rt::dataset d = rt::read_dataset_file(f, s, classifier({3}, 2), false);
  BOOST_TEST(d.x == std::vector<float>({1, 2, 0, 3, 4, 1}), boost::test_tools::per_element());
  BOOST_TEST(d.labels.empty());
  s.label_column = "label";
  d = rt::read_dataset_file(f, s, classifier({2}, 2), false);
  BOOST_TEST(d.x == std::vector<float>({1, 2, 3, 4}), boost::test_tools::per_element());
  const fs::path n = write_file(dir / "in.npy", npy<std::uint8_t>("|u1", {2, 2}, {0, 255, 255, 0}));
  d = rt::read_dataset_file(n, s, classifier({2}, 2), false);
  BOOST_TEST(d.x == std::vector<float>({0, 1, 1, 0}), boost::test_tools::per_element());
  expect_error<file_error>([&] { rt::read_dataset_file(n, s, classifier({2}, 2), true); },
                           n.string(), "unknown data file extension '.npy'");
}

BOOST_AUTO_TEST_SUITE_END()
