// The regularizer tour (see tour.hpp): trains the variants one after the other on the first
// --train-samples training images, prints a Markdown table (train accuracy, test accuracy, their
// gap, seconds per epoch) and writes <out>/<variant>/metrics.csv, <out>/tour.md and, when gnuplot
// is installed, <out>/test_accuracy.png and <out>/gap.png (the curves per epoch).
//
//   regularizer_tour [--epochs 12] [--train-samples 10000] [--threads 1] [--seed 0]
//                    [--out tour] [--only name,...] [--progress]
#include <kiln/runtime/data/fashion_mnist.hpp>
#include <kiln/runtime/data/loader.hpp>
#include <kiln/runtime/train/fit.hpp>
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "../common/plot.hpp"
#include "../common/timing.hpp"
#include "tour.hpp"

namespace tour {

namespace {
double cpu_seconds() { return common::now(CLOCK_THREAD_CPUTIME_ID); }
}  // namespace

result run(kiln::rt::model& m, const std::string& name, const kiln::rt::dataset& train,
           const kiln::rt::dataset& test, const settings& s) {
  namespace rt = kiln::rt;
  const int batch = m.info().batch;
  rt::loader_options o;
  o.batch = batch;
  o.seed = s.seed;
  if (auto plan = m.augmentation(); !plan.empty()) o.augment = rt::augmenter(plan);
  rt::batch_loader loader(train, o);
  std::ofstream csv;
  if (!s.out.empty()) {
    std::filesystem::create_directories(s.out / name);
    csv.open(s.out / name / "metrics.csv");
    csv << "epoch,lr,train_loss,train_accuracy,test_loss,test_accuracy,seconds\n";
  }
  result r;
  r.name = name;
  for (int e = 0; e < s.epochs; ++e) {
    m.begin_epoch(e, loader.batches_per_epoch());
    const double lr = m.current_lr(), t0 = cpu_seconds();
    loader.start_epoch(e);
    double loss = 0;
    long correct = 0, seen = 0;
    while (auto b = loader.next()) {
      const auto step = m.train_step(*b);
      loss += step.loss_sum, correct += step.correct, seen += b->n;
    }
    const double seconds = cpu_seconds() - t0;
    r.seconds_per_epoch += seconds / s.epochs;
    const auto at_test = rt::evaluate(m, test, batch);
    m.end_epoch(
        {loss / double(seen), double(correct) / double(seen), at_test.loss, at_test.accuracy});
    if (csv)
      csv << e + 1 << ',' << lr << ',' << loss / double(seen) << ','
          << double(correct) / double(seen) << ',' << at_test.loss << ',' << at_test.accuracy << ','
          << seconds << '\n';
    if (s.progress)
      std::fprintf(stderr, "  epoch %d: test accuracy %.4f\n", e + 1, at_test.accuracy);
    r.test_accuracy = at_test.accuracy;
  }
  r.train_accuracy = rt::evaluate(m, train, batch).accuracy;
  return r;
}

}  // namespace tour

namespace {

// The first n samples of d.
kiln::rt::dataset head_of(const kiln::rt::dataset& d, std::size_t n) {
  kiln::rt::dataset s = d;
  n = std::min(n, d.size());
  s.name = d.name + " (first " + std::to_string(n) + ")";
  s.x.resize(n * d.sample_size());
  s.labels.resize(n);
  return s;
}

std::string table(const std::vector<tour::result>& rs) {
  std::ostringstream t;
  t << "| regularizer | what | train acc | test acc | gap | CPU s / epoch |\n"
       "|---|---|---:|---:|---:|---:|\n";
  char line[512];
  for (const auto& r : rs) {
    std::snprintf(line, sizeof line, "| %s | %s | %.2f %% | %.2f %% | %.2f | %.2f |\n",
                  r.name.c_str(), r.what.c_str(), 100 * r.train_accuracy, 100 * r.test_accuracy,
                  100 * (r.train_accuracy - r.test_accuracy), r.seconds_per_epoch);
    t << line;
  }
  return t.str();
}

// Two PNGs from the variants' metrics.csv: test accuracy per epoch, and the gap between the
// training accuracy (as measured during the epoch, with the regularizer active) and the test
// accuracy.
void plot(const std::filesystem::path& out, const std::vector<tour::result>& rs) {
  if (!common::gnuplot_available()) {
    std::fprintf(stderr, "gnuplot not found: no plots (apt-get install gnuplot-nox)\n");
    return;
  }
  const auto script = out / "tour.gp";
  std::ofstream gp(script);
  gp << "set datafile separator ','\nset terminal pngcairo size 900,600 noenhanced\n"
        "set key outside right\n"
        "set grid\nset xlabel 'epoch'\n";
  auto curves = [&](const char* column) {
    std::string s;
    for (std::size_t i = 0; i < rs.size(); ++i)
      s += (i ? ", " : "plot ") + ("'" + (out / rs[i].name / "metrics.csv").string() + "'") +
           " using 1:(" + column + ") skip 1 with linespoints title '" + rs[i].name + "'";
    return s + "\n";
  };
  gp << "set output '" << (out / "test_accuracy.png").string() << "'\n"
     << "set ylabel 'test accuracy (%)'\n"
     << curves("100*$6");
  gp << "set output '" << (out / "gap.png").string() << "'\n"
     << "set ylabel 'train - test accuracy (points)'\n"
     << curves("100*($4-$6)");
  gp.close();
  if (!common::gnuplot_file(script)) std::fprintf(stderr, "gnuplot failed on %s\n", script.c_str());
}

// --name value pairs; returns false (after a message) on anything else.
bool parse(int argc, char** argv, tour::settings& s, std::size_t& samples,
           std::vector<std::string>& only) {
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (flag == "--progress") {
      s.progress = true;
      continue;
    }
    if (i + 1 >= argc) {
      std::fprintf(stderr, "error: %s needs a value (see the top of regularizer_tour.cpp)\n",
                   flag.c_str());
      return false;
    }
    const std::string v = argv[++i];
    try {
      if (flag == "--epochs")
        s.epochs = std::stoi(v);
      else if (flag == "--train-samples")
        samples = std::stoul(v);
      else if (flag == "--threads")
        s.threads = std::stoi(v);
      else if (flag == "--seed")
        s.seed = std::stoull(v);
      else if (flag == "--out")
        s.out = v;
      else if (flag == "--only")
        for (std::size_t at = 0; at <= v.size();) {
          const std::size_t comma = std::min(v.find(',', at), v.size());
          only.push_back(v.substr(at, comma - at));
          at = comma + 1;
        }
      else
        throw std::invalid_argument("unknown flag");
    } catch (const std::exception&) {
      std::fprintf(stderr, "error: bad option %s %s\n", flag.c_str(), v.c_str());
      return false;
    }
  }
  return s.epochs > 0 && s.threads > 0 && samples > 0;
}

}  // namespace

int main(int argc, char** argv) {
  tour::settings s;
  s.out = "tour";
  std::size_t samples = 10000;
  std::vector<std::string> only;
  if (!parse(argc, argv, s, samples, only)) return 2;

  try {
    const auto data = kiln::rt::fashion_mnist();
    const auto train = head_of(data.train, samples);
    const std::vector<tour::variant> all = tour::variants();
    std::vector<tour::result> results;
    for (const auto& v : all) {
      if (!only.empty() && std::find(only.begin(), only.end(), v.name) == only.end()) continue;
      std::fprintf(stderr, "tour: %s (%s)\n", v.name.c_str(), v.what.c_str());
      results.push_back(v.run(v.name, train, data.test, s));
      results.back().what = v.what;
      std::fprintf(stderr, "tour: %s: train %.4f test %.4f\n", v.name.c_str(),
                   results.back().train_accuracy, results.back().test_accuracy);
    }
    const std::string md = table(results);
    std::printf("%d epochs on %zu training images, test on %zu\n\n%s", s.epochs, train.size(),
                data.test.size(), md.c_str());
    std::filesystem::create_directories(s.out);
    std::ofstream(s.out / "tour.md") << md;
    plot(s.out, results);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}
