#include "kiln/runtime/app/predict.hpp"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <string>

#include "kiln/runtime/data/load.hpp"
#include "kiln/runtime/ensemble/ensemble.hpp"
#include "kiln/runtime/error.hpp"
#include "kiln/runtime/io/bytes.hpp"
#include "kiln/runtime/io/npy.hpp"
#include "kiln/runtime/io/onnx_export.hpp"
#include "kiln/runtime/io/trained.hpp"

namespace kiln::rt {
namespace {

namespace fs = std::filesystem;
constexpr int exit_ok = 0, exit_failure = 1, exit_usage = 2;

std::size_t sample_size(const model& m) {
  std::size_t s = 1;
  for (int d : m.info().input) s *= std::size_t(d);
  return s;
}

std::size_t whole_samples(const model& m, std::span<const float> x) {
  const std::size_t s = sample_size(m);
  if (s == 0 || x.size() % s != 0)
    throw config_error("predict", std::to_string(x.size()) +
                                      " values are not whole samples of the model's input (" +
                                      std::to_string(s) + " values each)");
  return x.size() / s;
}

void require_out(const model& m, std::size_t n, std::span<float> out) {
  if (out.size() != n * std::size_t(m.info().outputs))
    throw config_error("predict", "the output holds " + std::to_string(out.size()) + " floats, " +
                                      std::to_string(n) + " samples need " +
                                      std::to_string(n * std::size_t(m.info().outputs)));
}

void print_error(const std::string& message) {
  std::string line = message;
  std::replace(line.begin(), line.end(), '\n', ' ');
  std::fprintf(stderr, "error: %s\n", line.c_str());
}

// The output format, from the extension.
bool csv_output(const fs::path& p) {
  const std::string e = p.extension().string();
  if (e == ".csv") return true;
  if (e == ".npy") return false;
  throw config_error("--output", p.string() + ": the extension must be .npy or .csv");
}

void write_csv(const fs::path& path, const std::string& header, std::size_t rows,
               std::size_t columns, const auto& value) {
  std::string text = header + "\n";
  char cell[40];
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t c = 0; c < columns; ++c) {
      value(cell, sizeof cell, r * columns + c);
      text += cell;
      text += c + 1 < columns ? ',' : '\n';
    }
  io::write_file_atomically(path,
                            {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()});
}

std::string column_names(const char* stem, int n) {
  std::string h;
  for (int k = 0; k < n; ++k) h += (k ? "," : "") + std::string(stem) + std::to_string(k);
  return h;
}

template <class F>
int guarded(F&& f) {
  try {
    const int rc = f();
    // What was printed must have arrived: `... > /dev/full` is an error, not a success.
    if (std::fflush(stdout) != 0 || std::ferror(stdout))
      throw std::runtime_error(std::string("standard output: write error: ") +
                               std::strerror(errno));
    return rc;
  } catch (const std::exception& e) {
    print_error(e.what());
    return exit_failure;
  }
}

}  // namespace

void predict(model& m, std::span<const float> x, std::span<float> out) {
  const std::size_t n = whole_samples(m, x), s = sample_size(m);
  require_out(m, n, out);
  const auto batch = std::size_t(std::max(m.info().batch, 1));
  const auto outputs = std::size_t(m.info().outputs);
  for (std::size_t first = 0; first < n; first += batch) {
    const std::size_t count = std::min(batch, n - first);
    m.infer({int(count), x.data() + first * s}, out.data() + first * outputs);
  }
}

std::vector<float> predict(model& m, std::span<const float> x) {
  std::vector<float> out(whole_samples(m, x) * std::size_t(m.info().outputs));
  predict(m, x, out);
  return out;
}

predictor::predictor(model& m, standardization stats)
    : m_(m),
      stats_(std::move(stats)),
      scratch_(stats_.empty() ? 0 : std::size_t(std::max(m.info().batch, 1)) * sample_size(m)) {
  if (!stats_.empty() && stats_.mean.size() != sample_size(m))
    throw config_error("standardize", std::to_string(stats_.mean.size()) +
                                          " features in the statistics, the model's input has " +
                                          std::to_string(sample_size(m)));
}

std::size_t predictor::samples(std::span<const float> x) const { return whole_samples(m_, x); }

void predictor::run(std::span<const float> x, std::span<float> out) {
  if (stats_.empty()) return predict(m_, x, out);
  const std::size_t n = samples(x), s = sample_size(m_);
  require_out(m_, n, out);
  const std::size_t batch = scratch_.size() / s;
  const auto outputs = std::size_t(m_.info().outputs);
  for (std::size_t first = 0; first < n; first += batch) {
    const std::size_t count = std::min(batch, n - first);
    const std::span<float> part(scratch_.data(), count * s);
    std::copy_n(x.data() + first * s, count * s, part.data());
    stats_.apply(part);
    m_.infer({int(count), part.data()}, out.data() + first * outputs);
  }
}

std::vector<float> predictor::run(std::span<const float> x) {
  std::vector<float> out(samples(x) * std::size_t(m_.info().outputs));
  run(x, out);
  return out;
}

std::vector<std::int64_t> arg_max_rows(std::span<const float> rows, int columns) {
  const auto k = std::size_t(columns);
  std::vector<std::int64_t> out;
  for (std::size_t at = 0; at + k <= rows.size(); at += k)
    out.push_back(std::max_element(rows.data() + at, rows.data() + at + k) - (rows.data() + at));
  return out;
}

int run_predict(int argc, char** argv, const model_info& defaults, const model_factory& make) {
  std::string weights, input, output;
  data_spec spec;
  bool proba = false, labels = false, quiet = false;
  run_options opts;
  opts.batch = defaults.batch;
  opts.seed = defaults.seed;
  CLI::App app(
      "Runs the trained model on new samples (evaluation mode) and writes its outputs: the "
      "logits (or --proba, --labels) of a classifier, the predictions of a regression.",
      "predict");
  app.add_option("--weights", weights,
                 "Trained weights (model.safetensors of a run, .npz, or an exported .onnx)")
      ->required();
  app.add_option("--input", input,
                 "Samples: .npz (array x), .npy, .csv or .csv.gz (every column a feature, but "
                 "--label-column)")
      ->required();
  app.add_option("--output", output, "Where to write: .npy (float32 [N, outputs]) or .csv")
      ->required();
  auto* p = app.add_flag("--proba", proba, "Softmax probabilities instead of logits");
  app.add_flag("--labels", labels, "The predicted class (arg-max) as int64 [N]")->excludes(p);
  app.add_option("--label-column", spec.label_column,
                 "CSV column(s) to drop (by header name or 0-based index)");
  app.add_option("--x-key", spec.x_key, "The npz array holding the samples")->capture_default_str();
  app.add_option("--batch", opts.batch, "Samples per forward pass")->capture_default_str();
  app.add_option("--threads", opts.threads, "Threads for the compute kernels")
      ->capture_default_str();
  app.add_flag("--quiet", quiet, "No summary on stderr");
  try {
    app.parse(argc, argv);
    if (opts.batch < 1 || opts.threads < 1)
      throw CLI::ValidationError("--batch and --threads must be at least 1");
    csv_output(output);
  } catch (const CLI::Success&) {
    std::fputs(app.help().c_str(), stdout);
    return exit_ok;
  } catch (const CLI::ParseError& e) {
    print_error(std::string(e.what()) + " (see predict --help)");
    return exit_usage;
  } catch (const config_error& e) {
    print_error(e.what());
    return exit_usage;
  }
  return guarded([&] {
    std::unique_ptr<model> m = make(opts);
    const model_info& info = m->info();
    const bool classifier = info.kind == task::classify;
    if ((proba || labels) && !classifier)
      throw config_error(proba ? "--proba" : "--labels",
                         "this model is a regression; its outputs are its predictions");
    m->set_threads(opts.threads);
    predictor run(*m, load_trained(*m, weights));
    const dataset d = read_dataset_file(input, spec, info, false);
    std::vector<float> out = run.run(d.x);
    const std::size_t n = d.size(), k = std::size_t(info.outputs);
    const bool csv = csv_output(output);
    if (labels) {
      const std::vector<std::int64_t> l = arg_max_rows(out, info.outputs);
      if (csv)
        write_csv(output, "label", n, 1, [&](char* s, std::size_t cap, std::size_t i) {
          std::snprintf(s, cap, "%lld", static_cast<long long>(l[i]));
        });
      else
        write_npy(output, std::vector<std::size_t>{n}, std::span<const std::int64_t>(l));
    } else {
      if (proba) softmax_rows(out.data(), int(n), info.outputs, out.data());  // in place
      if (csv)
        write_csv(output,
                  column_names(proba        ? "p"
                               : classifier ? "logit"
                                            : "output",
                               info.outputs),
                  n, k, [&](char* s, std::size_t cap, std::size_t i) {
                    std::snprintf(s, cap, "%.9g", double(out[i]));
                  });
      else
        write_npy(output, std::vector<std::size_t>{n, k}, std::span<const float>(out));
    }
    if (!quiet)
      std::fprintf(stderr, "kiln: %zu samples from %s -> %s\n", n, input.c_str(), output.c_str());
    std::fprintf(stdout, "predictions=%zu\n", n);
    std::fflush(stdout);
    return exit_ok;
  });
}

int run_export(int argc, char** argv, const model_info& defaults, const model_factory& make) {
  std::string weights, onnx;
  CLI::App app(
      "Writes the whole model as an ONNX graph (opset 13, evaluation mode): input 'input' "
      "[batch, ...input shape], output 'logits' [batch, outputs]; the standardization the "
      "weights carry becomes its first nodes.",
      "export");
  app.add_option("--weights", weights, "Trained weights (model.safetensors of a run, .npz, .onnx)")
      ->required();
  app.add_option("--onnx", onnx, "The ONNX file to write")->required();
  try {
    app.parse(argc, argv);
  } catch (const CLI::Success&) {
    std::fputs(app.help().c_str(), stdout);
    return exit_ok;
  } catch (const CLI::ParseError& e) {
    print_error(std::string(e.what()) + " (see export --help)");
    return exit_usage;
  }
  return guarded([&] {
    run_options opts;
    opts.batch = 1;
    opts.seed = defaults.seed;
    std::unique_ptr<model> m = make(opts);
    const standardization stats = load_trained(*m, weights);
    write_onnx(onnx, *m, stats);
    std::fprintf(stdout, "onnx=%s\n", onnx.c_str());
    std::fflush(stdout);
    return exit_ok;
  });
}

}  // namespace kiln::rt
