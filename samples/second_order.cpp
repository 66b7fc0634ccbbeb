// Second-order against first-order optimization, full batch, on a 10 000-image Fashion-MNIST
// subset: softmax regression (convex) and a small MLP (784-64-10, not convex), each trained by
// SGD with momentum, Adam, L-BFGS and Newton-CG for the same number of gradient evaluations (one
// evaluation = loss and gradient over the whole subset). Prints the training loss after equal
// numbers of evaluations and after equal wall time (Markdown tables), writes every point to
// second_order.csv and plots loss against time to second_order.png (gnuplot).
//
//   second_order [--data DIR] [--samples 10000] [--evaluations 300] [--threads 1] [--out DIR]
//                [--cpu-clock]
//
// The runs live in second_order_sgd.cpp, second_order_adam.cpp and second_order_solvers.cpp
// (second_order.hpp): a few trainers per translation unit keep each quick to compile.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include <kiln/runtime/data/subset.hpp>

#include "common/plot.hpp"

#include "second_order.hpp"

using namespace second_order_sample;
namespace fs = std::filesystem;

namespace {

struct options {
  fs::path data = kiln::rt::fashion_mnist_dir(), out = ".";
  long samples = most_samples, evaluations = 300, threads = 1;
};

// `--name value` pairs: the sample has a handful of options (CLI11 would triple its build time).
options parse(int argc, char** argv) {
  options o;
  const auto number = [](std::string_view name, const char* text, long lo, long hi) {
    char* end = nullptr;
    const long v = std::strtol(text, &end, 10);
    if (*text == '\0' || *end != '\0' || v < lo || v > hi)
      throw kiln::config_error(std::string(name), "must be a whole number in [" +
                                                      std::to_string(lo) + ", " +
                                                      std::to_string(hi) + "], got " + text);
    return v;
  };
  for (int i = 1; i < argc; i += 2) {
    const std::string_view name = argv[i];
    if (name == "--help" || name == "-h") {
      std::printf(
          "second_order [--data DIR] [--samples N<=10000] [--evaluations N] [--threads N] "
          "[--out DIR] [--cpu-clock]\n");
      std::exit(0);
    }
    if (name == "--cpu-clock") {
      cpu_clock = true;
      --i;  // a switch: no value follows
      continue;
    }
    if (i + 1 >= argc) throw kiln::config_error(std::string(name), "needs a value");
    const char* value = argv[i + 1];
    if (name == "--data")
      o.data = value;
    else if (name == "--out")
      o.out = value;
    else if (name == "--samples")
      o.samples = number(name, value, 1, most_samples);
    else if (name == "--evaluations")
      o.evaluations = number(name, value, 10, 100'000);
    else if (name == "--threads")
      o.threads = number(name, value, 1, 64);
    else
      throw kiln::config_error(std::string(name), "unknown option (see --help)");
  }
  return o;
}

// The newest point at or before a budget of evaluations or seconds.
double loss_at_evaluations(const run& r, long evaluations) {
  double loss = r.trace.front().loss;
  for (const point& p : r.trace)
    if (p.evaluations <= evaluations) loss = p.loss;
  return loss;
}
double loss_at_seconds(const run& r, double seconds) {
  double loss = r.trace.front().loss;
  for (const point& p : r.trace)
    if (p.seconds <= seconds) loss = p.loss;
  return loss;
}

// One Markdown table per model: the loss after equal evaluations and after equal time (the
// shortest of the runs' times, and a quarter of it).
void print_table(const std::vector<run>& runs, const std::string& model, long budget) {
  double shortest = 1e300;
  for (const run& r : runs)
    if (r.model == model) shortest = std::min(shortest, r.trace.back().seconds);
  const long e1 = budget / 10, e2 = budget / 3;
  std::printf("\n%s (%ld evaluations; equal time: %.1f s and %.1f s)\n\n", model.c_str(), budget,
              shortest / 4, shortest);
  std::printf(
      "| method | loss @ %ld evals | @ %ld | @ %ld | loss @ %.1f s | @ %.1f s | evals/s |\n", e1,
      e2, budget, shortest / 4, shortest);
  std::printf("|---|---:|---:|---:|---:|---:|---:|\n");
  for (const run& r : runs) {
    if (r.model != model) continue;
    const point& last = r.trace.back();
    std::printf("| %s | %.4f | %.4f | %.4f | %.4f | %.4f | %.1f |\n", r.method.c_str(),
                loss_at_evaluations(r, e1), loss_at_evaluations(r, e2),
                loss_at_evaluations(r, budget), loss_at_seconds(r, shortest / 4),
                loss_at_seconds(r, shortest), double(last.evaluations) / last.seconds);
  }
}

void write_csv(const std::vector<run>& runs, const fs::path& path) {
  std::ofstream out(path);
  out << "model,method,seconds,evaluations,loss\n";
  for (const run& r : runs)
    for (const point& p : r.trace)
      out << r.model << ',' << r.method << ',' << p.seconds << ',' << p.evaluations << ',' << p.loss
          << '\n';
  if (!out) throw kiln::file_error(path.string(), "cannot write");
}

// Loss against time, one panel per model, one line per method (each method's points are a
// block of the data file, in the order the runs were made).
bool plot(const std::vector<run>& runs, const fs::path& dir) {
  const fs::path data = dir / "second_order.dat", script = dir / "second_order.gp";
  std::ofstream d(data);
  for (const run& r : runs) {
    for (const point& p : r.trace) d << p.seconds << ' ' << p.loss << '\n';
    d << "\n\n";
  }
  std::ofstream g(script);
  g << "set terminal pngcairo size 960,380 font 'sans,10'\n"
    << "set output '" << (dir / "second_order.png").string() << "'\n"
    << "set multiplot layout 1,2\n"
    << "set logscale y\nset grid\nset key top right\n"
    << "set xlabel 'seconds'\nset ylabel 'training loss (10 000 images)'\n";
  std::vector<std::string> models;
  for (const run& r : runs)
    if (std::find(models.begin(), models.end(), r.model) == models.end()) models.push_back(r.model);
  for (const std::string& model : models) {
    g << "set title '" << model << ", full batch'\nplot ";
    bool first = true;
    for (std::size_t i = 0; i < runs.size(); ++i) {
      if (runs[i].model != model) continue;
      g << (first ? "" : ", ") << "'" << data.string() << "' index " << i
        << " with lines lw 2 title '" << runs[i].method << "'";
      first = false;
    }
    g << "\n";
  }
  g << "unset multiplot\n";
  d.close();
  g.close();
  return common::gnuplot_file(script);
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const options o = parse(argc, argv);
    const auto subset =
        kiln::rt::subset(kiln::rt::fashion_mnist(o.data).train, std::size_t(o.samples), 0);
    const budget b{kiln::rt::chunks(subset, int(o.samples)).front(), o.evaluations, int(o.threads)};
    fs::create_directories(o.out);

    std::vector<run> runs;
    for (auto* make : {&sgd_runs, &adam_runs, &solver_runs})
      for (run& r : make(b)) {
        const point& last = r.trace.back();
        std::fprintf(stderr, "%s, %s: loss %.4f after %ld evaluations, %.1f s\n", r.model.c_str(),
                     r.method.c_str(), last.loss, last.evaluations, last.seconds);
        runs.push_back(std::move(r));
      }
    print_table(runs, softmax_name, o.evaluations);
    print_table(runs, mlp_name, o.evaluations);
    write_csv(runs, o.out / "second_order.csv");
    if (!plot(runs, o.out))
      std::fprintf(stderr, "second_order: gnuplot failed; the points are in %s\n",
                   (o.out / "second_order.csv").c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "second_order: %s\n", e.what());
    return 1;
  }
}
