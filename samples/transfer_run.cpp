// The runs of transfer (the command line: transfer.cpp).
#include <kiln/kiln.hpp>

#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "transfer.hpp"

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

int sample::run(const options& opts) {
  const std::string& data = opts.data;
  const int repeats = opts.repeats, pretrain_epochs = opts.pretrain_epochs, threads = opts.threads;
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
