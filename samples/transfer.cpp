// Transfer learning on Fashion-MNIST: pretrain on classes 0-4 (T-shirt, trouser, pullover,
// dress, coat), then learn classes 5-9 (sandal, shirt, sneaker, bag, ankle boot) from 10, 50,
// 200 or all labelled images per class, three ways:
//   scratch      the same network, freshly initialized, trained on the few images;
//   linear probe the pretrained body frozen: its features computed once, only a new head trained;
//   fine-tune    the pretrained body with a 10x lower learning rate, a new head at the full one.
// Prints a table of test accuracies on classes 5-9 (mean over --repeats draws of the images).
//
//   transfer [--data DIR] [--repeats N] [--pretrain-epochs N] [--threads N]
#include <CLI/CLI.hpp>
#include <kiln/kiln.hpp>

#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

using namespace kiln::dsl;
namespace rt = kiln::rt;

namespace {

constexpr auto classifier = input<1, 28, 28> | flatten{}                   //
                            | dense{.units = 256, .name = "fc1"} | relu{}  //
                            | dense{.units = 128, .name = "fc2"} | relu{}  //
                            | dense{.units = 5, .name = "head"} | softmax_cross_entropy{};
// The body's output (the ReLU after fc2, position 4): what the linear probe sees.
constexpr const char* feature_layer = "4";
constexpr auto head_only = input<128> | dense{.units = 5, .name = "head"} | softmax_cross_entropy{};

constexpr auto plan = training_plan{.optimizer = sgd{.lr = 0.05, .momentum = 0.9}, .batch = 64};
constexpr auto probe_plan =
    training_plan{.optimizer = sgd{.lr = 0.1, .momentum = 0.9}, .batch = 64};

// Small sets get more epochs: about the same number of steps for every size, at least 3 epochs.
rt::fit_options budget(const rt::dataset& d, std::uint64_t seed) {
  rt::fit_options o;
  o.batch = d.size() >= 1000 ? 64 : 16;
  const long batches = long((d.size() + o.batch - 1) / o.batch);
  o.epochs = int(std::max(3L, std::min(300L, 1200 / batches)));
  o.seed = seed;
  o.progress = false;
  return o;
}

double scratch(const rt::dataset& train, const rt::dataset& test, std::uint64_t seed) {
  auto t = kiln::compile<classifier, plan>({.seed = seed, .seed_set = true});
  return t.fit(train, &test, budget(train, seed)).test.accuracy;
}

template <class Body>
double linear_probe(Body& body, const rt::dataset& train, const rt::dataset& test,
                    std::uint64_t seed) {
  const rt::dataset f_train = kiln::extract_features(body, train, feature_layer);
  const rt::dataset f_test = kiln::extract_features(body, test, feature_layer);
  auto head = kiln::compile<head_only, probe_plan>({.seed = seed, .seed_set = true});
  return head.fit(f_train, &f_test, budget(f_train, seed)).test.accuracy;
}

template <class Body>
double fine_tune(const Body& pretrained, const rt::dataset& train, const rt::dataset& test,
                 std::uint64_t seed) {
  auto t = kiln::compile<classifier, plan>(
      {.seed = seed, .seed_set = true, .layers = {{.from = "fc1", .to = "fc2", .lr_mult = 0.1}}});
  kiln::transfer_weights(pretrained, t, {"head"});  // the head stays freshly initialized
  return t.fit(train, &test, budget(train, seed)).test.accuracy;
}

}  // namespace

int main(int argc, char** argv) {
  std::string data = rt::fashion_mnist_dir().string();
  int repeats = 3, pretrain_epochs = 5, threads = 1;
  CLI::App app("Transfer learning on Fashion-MNIST: classes 0-4 -> classes 5-9.", "transfer");
  app.add_option("--data", data, "Fashion-MNIST folder")->capture_default_str();
  app.add_option("--repeats", repeats, "Draws of the labelled images per size")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--pretrain-epochs", pretrain_epochs)
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--threads", threads, "GEMM threads")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  try {
    const rt::train_test fm = rt::fashion_mnist(data);
    const rt::dataset source = rt::select_classes(fm.train, {0, 1, 2, 3, 4});
    const rt::dataset source_test = rt::select_classes(fm.test, {0, 1, 2, 3, 4});
    const rt::dataset target = rt::select_classes(fm.train, {5, 6, 7, 8, 9});
    const rt::dataset target_test = rt::select_classes(fm.test, {5, 6, 7, 8, 9});

    auto pretrained =
        kiln::compile<classifier, plan>({.seed = 1, .seed_set = true, .threads = threads});
    rt::fit_options o;
    o.epochs = pretrain_epochs;
    o.batch = 64;
    o.seed = 1;
    o.progress = false;
    const double source_accuracy = pretrained.fit(source, &source_test, o).test.accuracy;
    std::printf("pretrained on classes 0-4: test accuracy %.4f (%d epochs)\n\n", source_accuracy,
                pretrain_epochs);

    std::printf("test accuracy on classes 5-9 (mean of %d draws)\n", repeats);
    std::printf("| images per class | from scratch | linear probe | fine-tune |\n");
    std::printf("|---:|---:|---:|---:|\n");
    for (const int per_class : {10, 50, 200, 0}) {
      double sums[3] = {};
      const int draws = per_class == 0 ? 1 : repeats;  // "all" has one draw
      for (int r = 0; r < draws; ++r) {
        const std::uint64_t seed = 100 + std::uint64_t(r);
        const rt::dataset train =
            per_class == 0 ? target : rt::take_per_class(target, per_class, seed);
        sums[0] += scratch(train, target_test, seed);
        sums[1] += linear_probe(pretrained, train, target_test, seed);
        sums[2] += fine_tune(pretrained, train, target_test, seed);
      }
      const std::string label = per_class == 0 ? "all (6000)" : std::to_string(per_class);
      std::printf("| %s | %.1f %% | %.1f %% | %.1f %% |\n", label.c_str(), 100 * sums[0] / draws,
                  100 * sums[1] / draws, 100 * sums[2] / draws);
      std::fflush(stdout);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
