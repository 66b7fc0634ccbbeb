// Ensembles on Fashion-MNIST with the MLP: K members from different seeds (trained side by
// side, one per core), their averaged probabilities and majority vote; a snapshot ensemble
// (one run, cyclic cosine schedule, a snapshot at the end of each cycle); and Polyak / EMA
// weights kept by the fused update. Then the wall time of 2 members on 2 cores against 1.
//
//   ensemble [--data DIR] [--members K] [--epochs N] [--timing-epochs N]
#include <CLI/CLI.hpp>
#include <kiln/kiln.hpp>
#include <kiln/runtime/ensemble/ensemble.hpp>

#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

using namespace kiln::dsl;
namespace rt = kiln::rt;

namespace {

constexpr auto mlp = input<1, 28, 28> | flatten{}                   //
                     | dense{.units = 256, .name = "fc1"} | relu{}  //
                     | dense{.units = 128, .name = "fc2"} | relu{}  //
                     | dense{.units = 10, .name = "head"} | softmax_cross_entropy{};

// Members: the MLP sample's plan, five seeds, each keeping an EMA of its weights.
constexpr auto members_plan = schedule{
    .optimizer = sgd{.lr = 0.05, .momentum = 0.9},
    .lr = step_decay{.every_epochs = 4, .gamma = 0.5},
    .epochs = 10,
    .batch = 64,
    .ensemble = ensemble{.members = 5, .ema = 0.999},
};

// Snapshots: one run, the learning rate restarting every 2 epochs, a snapshot at each end.
constexpr auto snapshot_plan = schedule{
    .optimizer = sgd{.lr = 0.1, .momentum = 0.9},
    .lr = cyclic_cosine{.cycle_epochs = 2},
    .epochs = 10,
    .batch = 64,
    .ensemble = ensemble{.snapshots = true},
};

using member_t = kiln::trainer<mlp, members_plan>;

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

rt::fit_options quiet(int epochs) {
  rt::fit_options o;
  o.epochs = epochs;
  o.batch = 64;
  o.progress = false;
  return o;
}

// Wall time of `count` members trained side by side (one thread each) for `epochs`.
double train_side_by_side(int count, int epochs, const rt::dataset& train) {
  std::vector<std::unique_ptr<member_t>> owned;
  std::vector<rt::model*> members;
  for (int k = 0; k < count; ++k) {
    owned.push_back(std::make_unique<member_t>(
        kiln::trainer_options{.seed = std::uint64_t(k), .seed_set = true}));
    members.push_back(owned.back().get());
  }
  const auto start = std::chrono::steady_clock::now();
  rt::fit_members(members, train, nullptr, quiet(epochs), count);
  return seconds_since(start);
}

}  // namespace

int main(int argc, char** argv) {
  std::string data = rt::fashion_mnist_dir().string();
  int members = members_plan.ensemble.members, epochs = members_plan.epochs, timing_epochs = 2;
  CLI::App app("Ensembles, snapshot ensembles and EMA weights on Fashion-MNIST.", "ensemble");
  app.add_option("--data", data, "Fashion-MNIST folder")->capture_default_str();
  app.add_option("--members", members, "Members of the ensemble")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  app.add_option("--epochs", epochs, "Epochs per member and of the snapshot run")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--timing-epochs", timing_epochs, "Epochs of the 1-vs-2-cores timing (0: skip)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  try {
    const rt::train_test fm = rt::fashion_mnist(data);

    // K members, one per core at a time.
    std::vector<std::unique_ptr<member_t>> owned;
    std::vector<rt::model*> ensemble_members;
    for (int k = 0; k < members; ++k) {
      owned.push_back(std::make_unique<member_t>(
          kiln::trainer_options{.seed = std::uint64_t(k), .seed_set = true}));
      ensemble_members.push_back(owned.back().get());
    }
    const int parallel = rt::parallel_members(members);
    auto start = std::chrono::steady_clock::now();
    rt::fit_members(ensemble_members, fm.train, nullptr, quiet(epochs), parallel);
    std::printf("%d members, %d epochs each, %d at a time: %.0f s\n", members, epochs, parallel,
                seconds_since(start));
    const rt::ensemble_result e = rt::evaluate_ensemble(ensemble_members, fm.test, 500);
    for (int k = 0; k < members; ++k)
      std::printf("member %d (seed %d): %.2f %%\n", k, k, 100 * e.member_accuracy[k]);

    // The EMA weights of every member, evaluated in place of the weights.
    double ema_mean = 0;
    for (rt::model* m : ensemble_members) {
      m->swap_averaged_weights();
      ema_mean += rt::evaluate(*m, fm.test, m->info().batch).accuracy / members;
      m->swap_averaged_weights();
    }

    // One run of the snapshot plan, a snapshot at the end of each cycle.
    auto snap = kiln::compile<mlp, snapshot_plan>({.seed = 0, .seed_set = true});
    std::vector<rt::tensor_file> snapshots;
    rt::fit_options o = quiet(epochs);
    o.on_epoch_end = [&](const rt::epoch_record& r, rt::model& m) {
      if (r.epoch % m.info().snapshot_epochs == 0) snapshots.push_back(rt::snapshot(m));
    };
    snap.fit(fm.train, nullptr, o);
    const rt::ensemble_result s = rt::evaluate_snapshots(snap, snapshots, fm.test, 500);

    std::printf("\n| model | test accuracy |\n|---|---:|\n");
    std::printf("| mean of the %d members | %.2f %% |\n", members, 100 * e.mean_member_accuracy);
    std::printf("| ensemble of %d (averaged probabilities) | %.2f %% |\n", members,
                100 * e.accuracy);
    std::printf("| ensemble of %d (majority vote) | %.2f %% |\n", members, 100 * e.vote_accuracy);
    std::printf("| EMA weights (decay 0.999), mean over members | %.2f %% |\n", 100 * ema_mean);
    std::printf("| last snapshot alone (cyclic cosine, %d epochs) | %.2f %% |\n", epochs,
                100 * s.member_accuracy.back());
    std::printf("| snapshot ensemble of %zu | %.2f %% |\n", snapshots.size(), 100 * s.accuracy);
    std::printf("ensemble - mean member: %+.2f points\n",
                100 * (e.accuracy - e.mean_member_accuracy));

    if (timing_epochs > 0) {
      const double one = train_side_by_side(1, timing_epochs, fm.train);
      const double two = train_side_by_side(2, timing_epochs, fm.train);
      std::printf(
          "\nwall time, %d epochs: 1 member %.1f s, 2 members side by side %.1f s "
          "(ratio %.2f)\n",
          timing_epochs, one, two, two / one);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
