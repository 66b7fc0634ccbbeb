#include "kiln/runtime/data/load.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdio>
#include <cmath>
#include <exception>
#include <future>
#include <numeric>
#include <optional>
#include <utility>
#include <vector>

#include "kiln/runtime/data/cifar10.hpp"
#include "kiln/runtime/data/csv.hpp"
#include "kiln/runtime/data/fashion_mnist.hpp"
#include "kiln/runtime/data/idx.hpp"
#include "kiln/runtime/error.hpp"
#include "kiln/runtime/io/bytes.hpp"
#include "kiln/runtime/io/gzip.hpp"
#include "kiln/runtime/io/npy.hpp"
#include "kiln/runtime/io/npz.hpp"
#include "kiln/core/rng.hpp"

namespace kiln::rt {
namespace {

namespace fs = std::filesystem;

// Beside rt::streams' ids (rng.hpp): the draw of the validation split.
constexpr std::uint64_t validation_stream = 5;
// A CSV is text: 4 GB of it, or of what a .csv.gz inflates to, is far past any dataset kept so.
constexpr std::uint64_t text_limit = std::uint64_t{1} << 32;

std::size_t product(std::span<const int> shape) {
  std::size_t p = 1;
  for (int d : shape) p *= std::size_t(std::max(d, 0));
  return p;
}

std::string input_text(const model_info& m) {
  return "the model's input " + shape_text(std::span<const int>(m.input)) + " (" +
         std::to_string(product(m.input)) + " values)";
}

std::string classes_text(const model_info& m) {
  return "0.." + std::to_string(m.outputs - 1) + ", the model's " + std::to_string(m.outputs) +
         " classes";
}

bool classify(const model_info& m) { return m.kind == task::classify; }

std::string ext_of(const fs::path& p) {
  std::string name = p.filename().string();
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return char(std::tolower(c)); });
  for (const char* e : {".csv.gz", ".csv", ".npz", ".npy"})
    if (name.ends_with(e)) return e;
  return p.extension().string();
}

std::string printable_value(float v) {
  if (std::isnan(v)) return "NaN";
  char s[32];
  std::snprintf(s, sizeof s, "%.9g", double(v));
  return s;
}

// The first value that is not finite, named by sample and position.
void require_finite(std::span<const float> v, std::size_t per_sample, const std::string& path,
                    const std::string& what) {
  const auto bad = std::find_if(v.begin(), v.end(), [](float x) { return !std::isfinite(x); });
  if (bad == v.end()) return;
  const auto at = std::size_t(bad - v.begin());
  throw file_error(path, what + ": value " + std::to_string(at % per_sample) + " of sample " +
                             std::to_string(at / per_sample) + " is " +
                             (std::isnan(*bad) ? "NaN" : "infinite"));
}

// ---------------------------------------------------------------------------------------------
// CSV

struct csv_table {
  dataset all;  // every column as a feature, sample_shape {columns}
  std::vector<std::string> header;
  std::string text;  // kept for line numbers in later messages
  std::size_t columns() const { return all.sample_size(); }
};

csv_table parse_table(std::span<const std::uint8_t> bytes, const std::string& path) {
  csv_table t;
  if (io::is_gzip(bytes)) {
    const auto inflated = io::gunzip(bytes, path, text_limit);
    t.text.assign(inflated.begin(), inflated.end());
  } else {
    t.text.assign(bytes.begin(), bytes.end());
  }
  t.all = parse_csv(t.text, path, {.label_column = -1});
  t.header = csv_header(t.text);
  return t;
}

std::string column_name(const csv_table& t, std::size_t c) {
  return c < t.header.size() ? "'" + io::printable(t.header[c], 40) + "'"
                             : "column " + std::to_string(c);
}

// The columns --label-column names in `t` (in the order given).
std::vector<std::size_t> label_columns(const csv_table& t, const std::string& path,
                                       const data_spec& spec, const model_info& m, bool answers) {
  const std::size_t columns = t.columns();
  std::vector<std::size_t> picked;
  if (spec.label_column.empty()) {
    if (!answers) return picked;  // predict: every column is a feature
    const std::size_t k = classify(m) ? 1 : std::size_t(std::max(m.outputs, 1));
    if (k >= columns)
      throw file_error(path, std::to_string(columns) + " columns leave no feature beside the " +
                                 std::to_string(k) + " label column" + (k > 1 ? "s" : ""));
    for (std::size_t c = columns - k; c < columns; ++c) picked.push_back(c);
    return picked;
  }
  std::string_view rest = spec.label_column;
  while (true) {
    const std::size_t comma = rest.find(',');
    std::string_view token = rest.substr(0, comma);
    while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
    while (!token.empty() && token.back() == ' ') token.remove_suffix(1);
    const std::string name(token);
    const bool index = !name.empty() && std::all_of(name.begin(), name.end(),
                                                    [](char c) { return c >= '0' && c <= '9'; });
    std::size_t c = 0;
    if (name.empty()) {
      throw config_error("--label-column", "an empty name in '" + spec.label_column + "'");
    } else if (index) {
      c = name.size() > 9 ? columns : std::stoul(name);
      if (c >= columns)
        throw file_error(path, "--label-column " + name + ": the file has " +
                                   std::to_string(columns) + " columns (0.." +
                                   std::to_string(columns - 1) + ")");
    } else {
      if (t.header.empty())
        throw file_error(path, "--label-column '" + io::printable(name, 40) +
                                   "': the file has no header row; name the column by its "
                                   "0-based index");
      const auto at = std::find(t.header.begin(), t.header.end(), name);
      if (at == t.header.end()) {
        std::string names;
        for (const std::string& h : t.header)
          names += (names.empty() ? "" : ", ") + io::printable(h, 24);
        throw file_error(path, "--label-column '" + io::printable(name, 40) +
                                   "': no such column (the header has " +
                                   io::printable(names, 200) + ")");
      }
      c = std::size_t(at - t.header.begin());
    }
    if (std::find(picked.begin(), picked.end(), c) != picked.end())
      throw config_error("--label-column", "names " + column_name(t, c) + " twice");
    picked.push_back(c);
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  if (!answers) return picked;
  if (classify(m) && picked.size() != 1)
    throw config_error("--label-column",
                       "a classifier takes one label column, got " + std::to_string(picked.size()));
  if (!classify(m) && picked.size() != std::size_t(m.outputs))
    throw config_error("--label-column", std::to_string(picked.size()) + " target column" +
                                             (picked.size() > 1 ? "s" : "") + " for a model with " +
                                             std::to_string(m.outputs) + " output" +
                                             (m.outputs > 1 ? "s" : ""));
  if (picked.size() >= columns)
    throw file_error(path, "no feature column is left beside the label column(s)");
  return picked;
}

dataset csv_dataset(const csv_table& t, const std::string& path, const data_spec& spec,
                    const model_info& m, bool answers) {
  const std::vector<std::size_t> labels = label_columns(t, path, spec, m, answers);
  const std::size_t columns = t.columns(), n = t.all.size();
  const std::size_t features = columns - labels.size(), wanted = product(m.input);
  if (features != wanted)
    throw file_error(path, std::to_string(features) + " feature column" +
                               (features == 1 ? "" : "s") + " (" + std::to_string(columns) +
                               " columns, " + std::to_string(labels.size()) +
                               " of them labels) do not fill " + input_text(m));
  std::vector<bool> is_label(columns, false);
  for (std::size_t c : labels) is_label[c] = true;
  dataset d;
  d.name = path;
  d.sample_shape = m.input;
  d.x.reserve(n * features);
  const bool with_labels = answers && classify(m);
  const bool with_targets = answers && !classify(m);
  if (with_labels) d.labels.reserve(n), d.classes = m.outputs;
  if (with_targets) d.targets.reserve(n * labels.size()), d.target_size = m.outputs;
  for (std::size_t i = 0; i < n; ++i) {
    const float* row = t.all.x.data() + i * columns;
    for (std::size_t c = 0; c < columns; ++c)
      if (!is_label[c]) d.x.push_back(row[c]);
    if (with_targets)
      for (std::size_t c : labels) d.targets.push_back(row[c]);
    if (!with_labels) continue;
    const float v = row[labels[0]];
    if (v != std::floor(v) || v < 0 || v >= float(m.outputs))
      throw file_error(path, "line " + std::to_string(csv_line_of_row(t.text, i)) + ": label " +
                                 printable_value(v) + " (" + column_name(t, labels[0]) +
                                 ") is not a class of the model (" + classes_text(m) + ")");
    d.labels.push_back(std::int32_t(v));
  }
  return d;
}

// ---------------------------------------------------------------------------------------------
// NumPy

const named_tensor& array_named(const tensor_file& f, const std::string& key, const char* option) {
  if (const named_tensor* t = f.find(key)) return *t;
  std::string names;
  for (const named_tensor& t : f.tensors)
    names += (names.empty() ? "" : ", ") + io::printable(t.name, 24);
  throw file_error(f.path, "no array '" + io::printable(key, 40) + "' (the file has " +
                               (names.empty() ? std::string("none") : io::printable(names, 200)) +
                               "); name another with " + option);
}

// A shape with its leading 1s dropped: 1x28x28 and 28x28 are the same layout.
std::vector<std::size_t> squeezed(std::span<const std::size_t> s) {
  std::size_t first = 0;
  while (first + 1 < s.size() && s[first] == 1) ++first;
  return {s.begin() + long(first), s.end()};
}

// x [N, ...] as the model's samples: uint8 scaled by 1/255, float32/float64 as given.
dataset features_from(const named_tensor& x, const std::string& path, const model_info& m) {
  const std::string what = "array '" + io::printable(x.name, 40) + "'";
  if (x.stored != dtype::u8 && x.stored != dtype::f32 && x.stored != dtype::f64)
    throw file_error(path, what + " has dtype " + std::string(dtype_name(x.stored)) +
                               "; features must be uint8, float32 or float64");
  if (x.shape.empty()) throw file_error(path, what + " is a scalar, not samples [N, ...]");
  const std::size_t n = x.shape[0];
  const std::span<const std::size_t> sample(x.shape.data() + 1, x.shape.size() - 1);
  std::size_t per = 1;
  for (std::size_t d : sample) per *= d;
  if (n == 0)
    throw file_error(path, what + " holds no samples (shape " + shape_text(x.shape) + ")");
  if (per != product(m.input))
    throw file_error(path, what + " is " + shape_text(x.shape) + ": " + std::to_string(per) +
                               " values per sample do not fill " + input_text(m));
  // Same count, another layout (32x32x3 against 3x32x32) would train on scrambled pixels.
  std::vector<std::size_t> wanted;
  for (int d : m.input) wanted.push_back(std::size_t(d));
  const auto a = squeezed(sample), b = squeezed(wanted);
  if (a.size() > 1 && b.size() > 1 && a != b)
    throw file_error(path, what + " holds samples shaped " + shape_text(sample) +
                               ", the model takes " + shape_text(std::span<const int>(m.input)) +
                               " (channels first: N, C, H, W)");
  dataset d;
  d.name = path;
  d.sample_shape = m.input;
  d.x = x.values;
  if (x.stored == dtype::u8)
    for (float& v : d.x) v = v / 255.0f;  // exactly pixel / 255, as the IDX reader
  require_finite(d.x, per, path, what);
  return d;
}

void answers_from(const named_tensor& y, const std::string& path, const model_info& m, dataset& d) {
  const std::string what = "array '" + io::printable(y.name, 40) + "'";
  const std::size_t n = d.size();
  if (y.shape.empty() || y.shape[0] != n)
    throw file_error(path, what + " is " + shape_text(y.shape) + ": " +
                               (y.shape.empty() ? std::string("no") : std::to_string(y.shape[0])) +
                               " rows for the " + std::to_string(n) + " samples of the features");
  if (classify(m)) {
    if (y.stored != dtype::i64 && y.stored != dtype::i32 && y.stored != dtype::u8)
      throw file_error(path, what + " holds " + std::string(dtype_name(y.stored)) +
                                 " values; a classifier takes integer class labels (int64, "
                                 "int32 or uint8)");
    if (!(y.shape.size() == 1 || (y.shape.size() == 2 && y.shape[1] == 1)))
      throw file_error(path, what + " is " + shape_text(y.shape) + "; class labels are [" +
                                 std::to_string(n) + "]");
    d.classes = m.outputs;
    d.labels.resize(n);
    for (std::size_t i = 0; i < n; ++i) {
      const float v = y.values[i];
      if (!(v >= 0 && v < float(m.outputs)))
        throw file_error(path, what + ": label " + printable_value(v) + " of sample " +
                                   std::to_string(i) + " is not a class of the model (" +
                                   classes_text(m) + ")");
      d.labels[i] = std::int32_t(v);
    }
    return;
  }
  const std::size_t per = y.values.size() / n;
  if (per != std::size_t(m.outputs) || y.shape.size() > 2)
    throw file_error(path, what + " is " + shape_text(y.shape) + "; the model has " +
                               std::to_string(m.outputs) + " output" + (m.outputs > 1 ? "s" : "") +
                               " (targets [" + std::to_string(n) +
                               (m.outputs > 1 ? ", " + std::to_string(m.outputs) : "") + "])");
  d.target_size = m.outputs;
  d.targets = y.values;
  require_finite(d.targets, per, path, what);
}

// ---------------------------------------------------------------------------------------------
// Folders

std::optional<fs::path> present(const fs::path& dir, const std::string& name) {
  std::error_code ec;
  for (const fs::path& p : {dir / (name + ".gz"), dir / name})
    if (fs::exists(p, ec)) return p;
  return std::nullopt;
}

void require_images(const dataset& d, const fs::path& file, const model_info& m) {
  const bool same_count = d.sample_size() == product(m.input);
  std::vector<int> a = d.sample_shape, b = m.input;
  while (a.size() > 1 && a.front() == 1) a.erase(a.begin());
  while (b.size() > 1 && b.front() == 1) b.erase(b.begin());
  if (!same_count || (b.size() > 1 && a != b))
    throw file_error(file.string(), "its images are " +
                                        shape_text(std::span<const int>(d.sample_shape)) + " (" +
                                        std::to_string(d.sample_size()) +
                                        " values), which do not fill " + input_text(m));
}

train_test idx_folder(const fs::path& dir, const model_info& m) {
  std::array<fs::path, 4> files;
  const char* names[4] = {"train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                          "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"};
  for (int i = 0; i < 4; ++i) {
    const auto p = present(dir, names[i]);
    if (!p)
      throw file_error((dir / names[i]).string(),
                       "missing (nor is there a .gz of it): an IDX folder holds the four files "
                       "train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte "
                       "and t10k-labels-idx1-ubyte (raw or .gz)");
    files[i] = *p;
  }
  // The training images are most of the work: inflate them beside the rest.
  auto train = std::async(std::launch::async,
                          [&] { return read_idx_dataset(files[0], files[1], m.outputs); });
  dataset test;
  std::exception_ptr test_error;
  try {
    test = read_idx_dataset(files[2], files[3], m.outputs);
  } catch (...) {
    test_error = std::current_exception();
  }
  train_test both{train.get(), std::move(test)};
  if (test_error) std::rethrow_exception(test_error);
  require_images(both.train, files[0], m);
  require_images(both.test, files[2], m);
  return both;
}

train_test cifar_folder(const fs::path& dir, const model_info& m) {
  std::vector<fs::path> train;
  std::error_code ec;
  for (int k = 1; k <= 5; ++k)
    if (const fs::path p = dir / ("data_batch_" + std::to_string(k) + ".bin"); fs::exists(p, ec))
      train.push_back(p);
  const fs::path test = dir / "test_batch.bin";
  if (train.empty())
    throw file_error((dir / "data_batch_1.bin").string(),
                     "missing: a CIFAR-10 folder holds data_batch_1.bin ... data_batch_5.bin "
                     "and test_batch.bin");
  if (!fs::exists(test, ec))
    throw file_error(test.string(),
                     "missing: a CIFAR-10 folder holds data_batch_1.bin ... "
                     "data_batch_5.bin and test_batch.bin");
  train_test both{read_cifar10(train), read_cifar10({test})};
  for (const auto& [d, file] :
       {std::pair{&both.train, train.front()}, std::pair{&both.test, test}}) {
    require_images(*d, file, m);
    for (std::size_t i = 0; i < d->labels.size(); ++i)
      if (d->labels[i] >= m.outputs)
        throw file_error(file.string(), "label " + std::to_string(d->labels[i]) + " of sample " +
                                            std::to_string(i) + " is not a class of the model (" +
                                            classes_text(m) + ")");
    d->classes = m.outputs;
  }
  return both;
}

// ---------------------------------------------------------------------------------------------

// A data file as read, before it meets the model: so that the widths of a training and a test
// file can be compared first.
struct raw_file {
  std::string path;
  std::optional<csv_table> table;     // .csv, .csv.gz
  std::optional<tensor_file> arrays;  // .npz, .npy
  // Values per sample as stored: a CSV row's fields, an x array's trailing shape.
  std::string width(const data_spec& spec) const {
    if (table) return std::to_string(table->columns()) + " columns";
    const named_tensor* x = arrays->tensors.size() == 1 && arrays->format == "npy"
                                ? &arrays->tensors[0]
                                : arrays->find(spec.x_key);
    if (!x || x->shape.empty()) return {};
    std::size_t per = 1;
    for (std::size_t k = 1; k < x->shape.size(); ++k) per *= x->shape[k];
    return "samples of " + std::to_string(per) + " values";
  }
};

raw_file read_raw(const fs::path& file, bool answers) {
  raw_file r{file.string(), {}, {}};
  const std::string ext = ext_of(file);
  if (ext == ".csv" || ext == ".csv.gz")
    r.table = parse_table(io::read_file(file, text_limit), r.path);
  else if (ext == ".npz")
    r.arrays = read_npz(file);  // header first, each array read once into its tensor
  else if (ext == ".npy" && !answers)
    r.arrays = read_npy(file);
  else
    throw file_error(r.path, "unknown data file extension '" + file.extension().string() +
                                 "' (expected .csv, .csv.gz or .npz" +
                                 (answers ? "" : ", or .npy for features alone") + ")");
  return r;
}

dataset convert(const raw_file& r, const data_spec& spec, const model_info& m, bool answers) {
  if (r.table) return csv_dataset(*r.table, r.path, spec, m, answers);
  if (r.arrays->format == "npy") return features_from(r.arrays->tensors.at(0), r.path, m);
  dataset d = features_from(array_named(*r.arrays, spec.x_key, "--x-key"), r.path, m);
  if (answers) answers_from(array_named(*r.arrays, spec.y_key, "--y-key"), r.path, m, d);
  return d;
}

// The held-out fraction of `all`, drawn from `seed`; both parts keep the file's order.
void split_off(dataset& train, dataset& test, double fraction, std::uint64_t seed) {
  const std::size_t n = train.size();
  const auto held = std::size_t(std::llround(fraction * double(n)));
  if (held < 1 || held >= n)
    throw config_error("--val-split", std::to_string(fraction) + " of " + std::to_string(n) +
                                          " samples holds out " + std::to_string(held) +
                                          "; both parts need at least one sample");
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  rng r(seed, validation_stream);
  shuffle(std::span(order), r);
  std::vector<bool> out(n, false);
  for (std::size_t i = 0; i < held; ++i) out[order[i]] = true;
  const std::size_t f = train.sample_size(), t = std::size_t(train.target_size);
  dataset kept = train;
  kept.x.clear(), kept.labels.clear(), kept.targets.clear();
  test = kept;
  test.name = train.name + " (validation split)";
  for (std::size_t i = 0; i < n; ++i) {
    dataset& to = out[i] ? test : kept;
    to.x.insert(to.x.end(), train.x.begin() + long(i * f), train.x.begin() + long((i + 1) * f));
    if (!train.labels.empty()) to.labels.push_back(train.labels[i]);
    if (t > 0)
      to.targets.insert(to.targets.end(), train.targets.begin() + long(i * t),
                        train.targets.begin() + long((i + 1) * t));
  }
  train = std::move(kept);
}

}  // namespace

dataset parse_csv_dataset(std::span<const std::uint8_t> bytes, const std::string& path,
                          const data_spec& spec, const model_info& model, bool answers) {
  return csv_dataset(parse_table(bytes, path), path, spec, model, answers);
}

dataset parse_npz_dataset(std::span<const std::uint8_t> bytes, const std::string& path,
                          const data_spec& spec, const model_info& model, bool answers) {
  return convert({path, {}, parse_npz(bytes, path)}, spec, model, answers);
}

dataset read_dataset_file(const fs::path& file, const data_spec& spec, const model_info& model,
                          bool answers) {
  return convert(read_raw(file, answers), spec, model, answers);
}

train_test read_dataset_folder(const fs::path& dir, const model_info& model) {
  std::error_code ec;
  if (!fs::exists(dir, ec))
    throw file_error(dir.string(),
                     "no such folder (for Fashion-MNIST: apt-get install "
                     "dataset-fashion-mnist, or point --data or "
                     "KILN_FASHION_MNIST to the folder holding its IDX files)");
  if (!fs::is_directory(dir, ec)) throw file_error(dir.string(), "not a folder");
  if (!classify(model))
    throw config_error("--data", dir.string() +
                                     ": IDX and CIFAR-10 folders hold class labels and this model "
                                     "is a regression (mse); train it from --train FILE");
  if (present(dir, "train-images-idx3-ubyte") || present(dir, "train-labels-idx1-ubyte") ||
      present(dir, "t10k-images-idx3-ubyte"))
    return idx_folder(dir, model);
  for (const fs::path& d : {dir, dir / "cifar-10-batches-bin"})
    if (fs::exists(d / "data_batch_1.bin", ec) || fs::exists(d / "test_batch.bin", ec))
      return cifar_folder(d, model);
  throw file_error(dir.string(),
                   "holds neither an IDX dataset (train-images-idx3-ubyte[.gz], ...) nor "
                   "CIFAR-10 binary batches (data_batch_1.bin ... test_batch.bin)");
}

loaded_data load_dataset(const data_spec& spec, const model_info& model) {
  if (model.outputs < 1 || model.input.empty())
    throw config_error("model", "has no input shape or no outputs");
  if (!spec.train.empty() && !spec.dir.empty())
    throw config_error("--data", "give a folder (--data) or files (--train, --test), not both");
  if (spec.train.empty() && !spec.test.empty()) throw config_error("--test", "needs --train");
  if (!(spec.val_split >= 0 && spec.val_split < 1))
    throw config_error("--val-split", "must be in (0, 1), got " + std::to_string(spec.val_split));
  if (spec.val_split > 0 && (spec.train.empty() || !spec.test.empty()))
    throw config_error("--val-split", "holds out part of --train when no --test is given");
  if (!spec.train.empty() && spec.test.empty() && spec.val_split == 0)
    throw config_error("--train",
                       "needs --test FILE, or --val-split F to hold out a fraction "
                       "of it for evaluation");
  loaded_data out;
  if (spec.train.empty()) {
    const fs::path dir = spec.dir.empty() ? fashion_mnist_dir() : spec.dir;
    train_test both = read_dataset_folder(dir, model);
    out.train = std::move(both.train);
    out.test = std::move(both.test);
    out.source = dir.string();
  } else {
    const raw_file train = read_raw(spec.train, true);
    if (!spec.test.empty()) {
      const raw_file test = read_raw(spec.test, true);
      // A test file laid out otherwise than the training file: said before either meets the
      // model (whose message would blame one of them only).
      if (const std::string a = train.width(spec), b = test.width(spec);
          !a.empty() && !b.empty() && bool(train.table) == bool(test.table) && a != b)
        throw file_error(test.path, b + ", the training file " + train.path + " has " + a);
      out.train = convert(train, spec, model, true);
      out.test = convert(test, spec, model, true);
      out.source = spec.train.string() + " and " + spec.test.string();
    } else {
      out.train = convert(train, spec, model, true);
      split_off(out.train, out.test, spec.val_split, spec.seed);
      out.source = spec.train.string() + " (" + std::to_string(out.test.size()) +
                   " held out for validation, seed " + std::to_string(spec.seed) + ")";
    }
  }
  if (spec.standardize) {
    out.stats = standardization::of(out.train);
    out.stats.apply(out.train);
    out.stats.apply(out.test);
  }
  return out;
}

}  // namespace kiln::rt
