// The runs of ensemble (the command line: ensemble.cpp).
#include <kiln/kiln.hpp>
#include <kiln/runtime/ensemble/ensemble.hpp>

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "common/timing.hpp"
#include "ensemble.hpp"

using namespace kiln::dsl;
namespace rt = kiln::rt;

namespace {

constexpr auto mlp = input<1, 28, 28> | flatten{}                   //
                     | dense{.units = 256, .name = "fc1"} | relu{}  //
                     | dense{.units = 128, .name = "fc2"} | relu{}  //
                     | dense{.units = 10, .name = "head"} | softmax_cross_entropy{};

// Members: the MLP sample's plan (step decay), five seeds, each keeping an EMA of its weights.
constexpr auto decayed_plan = training_plan{
    .optimizer = sgd{.lr = 0.05, .momentum = 0.9},
    .lr = step_decay{.every_epochs = 4, .gamma = 0.5},
    .epochs = 10,
    .batch = 64,
    .ensemble = ensemble{.members = 5, .ema = 0.999},
};
// The same with a constant learning rate: members end noisier, and averaging gains more.
constexpr auto constant_plan = training_plan{
    .optimizer = sgd{.lr = 0.05, .momentum = 0.9},
    .epochs = 10,
    .batch = 64,
    .ensemble = ensemble{.members = 5, .ema = 0.999},
};

// Snapshots: one run, the learning rate restarting every 2 epochs, a snapshot at each end.
constexpr auto snapshot_plan = training_plan{
    .optimizer = sgd{.lr = 0.05, .momentum = 0.9},
    .lr = cyclic_cosine{.cycle_epochs = 2},
    .epochs = 10,
    .batch = 64,
    .ensemble = ensemble{.snapshots = true},
};

using member_t = kiln::trainer<mlp, decayed_plan>;

rt::fit_options quiet(int epochs) {
  rt::fit_options o;
  o.epochs = epochs;
  o.batch = 64;
  o.progress = false;
  return o;
}

struct timing {
  double wall = 0, cpu = 0;  // seconds; cpu: the process's, all threads
};

// Wall and CPU time of `count` members trained side by side (one thread each) for `epochs`.
timing train_side_by_side(int count, int epochs, const rt::dataset& train) {
  std::vector<std::unique_ptr<member_t>> owned;
  std::vector<rt::model*> members;
  for (int k = 0; k < count; ++k) {
    owned.push_back(std::make_unique<member_t>(
        kiln::trainer_options{.seed = std::uint64_t(k), .seed_set = true}));
    members.push_back(owned.back().get());
  }
  const double start = common::now(), cpu = common::now(CLOCK_PROCESS_CPUTIME_ID);
  rt::fit_members(members, train, nullptr, quiet(epochs), count);
  return {common::seconds_since(start), common::seconds_since(cpu, CLOCK_PROCESS_CPUTIME_ID)};
}

struct members_result {
  rt::ensemble_result e;
  double ema_mean = 0;  // the members' EMA weights, mean accuracy
  double seconds = 0;
};

// K members of `Plan`, trained one per core at a time, evaluated alone, combined, and with
// their EMA weights.
template <auto Plan>
members_result train_members(int members, int epochs, const rt::train_test& fm) {
  std::vector<std::unique_ptr<kiln::trainer<mlp, Plan>>> owned;
  std::vector<rt::model*> ms;
  for (int k = 0; k < members; ++k) {
    owned.push_back(std::make_unique<kiln::trainer<mlp, Plan>>(
        kiln::trainer_options{.seed = std::uint64_t(k), .seed_set = true}));
    ms.push_back(owned.back().get());
  }
  members_result r;
  const double start = common::now();
  rt::fit_members(ms, fm.train, nullptr, quiet(epochs), rt::parallel_members(members));
  r.seconds = common::seconds_since(start);
  r.e = rt::evaluate_ensemble(ms, fm.test, 500);
  for (rt::model* m : ms) {
    m->swap_averaged_weights();
    r.ema_mean += rt::evaluate(*m, fm.test, m->info().batch).accuracy / members;
    m->swap_averaged_weights();
  }
  return r;
}

}  // namespace

sample::options sample::defaults() {
  options o;
  o.members = decayed_plan.ensemble.members;
  o.epochs = decayed_plan.epochs;
  return o;
}

int sample::run(const options& opts) {
  const std::string& data = opts.data;
  int members = opts.members, epochs = opts.epochs;
  const int timing_epochs = opts.timing_epochs;
  const bool timing_only = opts.timing_only;
  try {
    const rt::train_test fm = rt::fashion_mnist(data);

    if (timing_only) members = 0, epochs = 0;
    if (members > 0) {
      const members_result d = train_members<decayed_plan>(members, epochs, fm);
      const members_result c = train_members<constant_plan>(members, epochs, fm);
      std::printf("%d members x 2 plans, %d epochs each, %d at a time: %.0f s + %.0f s\n", members,
                  epochs, rt::parallel_members(members), d.seconds, c.seconds);
      for (int k = 0; k < members; ++k)
        std::printf("member %d (seed %d): %.2f %% (step decay), %.2f %% (constant lr)\n", k, k,
                    100 * d.e.member_accuracy[k], 100 * c.e.member_accuracy[k]);

      // One run of the snapshot plan, a snapshot at the end of each cycle.
      auto snap = kiln::compile<mlp, snapshot_plan>({.seed = 0, .seed_set = true});
      std::vector<rt::tensor_file> snapshots;
      rt::fit_options o = quiet(epochs);
      o.on_epoch_end = [&](const rt::epoch_record& r, rt::model& m) {
        if (rt::ends_snapshot_cycle(m.info(), r.epoch)) snapshots.push_back(rt::snapshot(m));
      };
      snap.fit(fm.train, nullptr, o);
      const rt::ensemble_result s = rt::evaluate_snapshots(snap, snapshots, fm.test, 500);

      const auto row = [](const char* what, double a, double b) {
        std::printf("| %s | %.2f %% | %.2f %% |\n", what, 100 * a, 100 * b);
      };
      std::printf("\n| %d members, %d epochs | step decay | constant lr |\n|---|---:|---:|\n",
                  members, epochs);
      row("mean member", d.e.mean_member_accuracy, c.e.mean_member_accuracy);
      row("ensemble (averaged probabilities)", d.e.accuracy, c.e.accuracy);
      row("ensemble (majority vote)", d.e.vote_accuracy, c.e.vote_accuracy);
      std::printf("| ensemble - mean member | %+.2f points | %+.2f points |\n",
                  100 * (d.e.accuracy - d.e.mean_member_accuracy),
                  100 * (c.e.accuracy - c.e.mean_member_accuracy));
      row("EMA weights (decay 0.999), mean member", d.ema_mean, c.ema_mean);
      const std::size_t last = std::min<std::size_t>(3, snapshots.size());
      const rt::ensemble_result late = rt::evaluate_snapshots(
          snap, std::span(snapshots).subspan(snapshots.size() - last), fm.test, 500);
      std::printf(
          "\n| snapshot ensemble (cyclic cosine, %d-epoch cycles, %d epochs) | test accuracy |\n"
          "|---|---:|\n",
          snap.info().snapshot_epochs, epochs);
      std::printf("| last snapshot alone | %.2f %% |\n", 100 * s.member_accuracy.back());
      std::printf("| all %zu snapshots averaged | %.2f %% |\n", snapshots.size(), 100 * s.accuracy);
      std::printf("| last %zu snapshots averaged | %.2f %% |\n", last, 100 * late.accuracy);
      std::fflush(stdout);
    }
    if (timing_epochs > 0) {
      // Medians of 3 alternating rounds: other work on the machine shifts single figures. The
      // CPU time per member shows what the members cost each other, whatever else runs.
      std::vector<double> wall1, wall2, cpu1, cpu2;
      for (int round = 0; round < 3; ++round) {
        const timing a = train_side_by_side(1, timing_epochs, fm.train);
        const timing b = train_side_by_side(2, timing_epochs, fm.train);
        wall1.push_back(a.wall), cpu1.push_back(a.cpu);
        wall2.push_back(b.wall), cpu2.push_back(b.cpu / 2);
      }
      using common::median;
      std::printf(
          "\n%d epochs, medians of 3: 1 member %.2f s wall (%.2f s CPU), 2 members side "
          "by side %.2f s wall (%.2f s CPU each); wall ratio %.2f, CPU per member ratio "
          "%.2f\n",
          timing_epochs, median(wall1), median(cpu1), median(wall2), median(cpu2),
          median(wall2) / median(wall1), median(cpu2) / median(cpu1));
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
