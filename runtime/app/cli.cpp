#include "kiln/runtime/app/cli.hpp"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <cstdio>
#include <cerrno>
#include <cstring>
#include <exception>
#include <optional>
#include <string>

#include "kiln/runtime/app/predict.hpp"
#include "kiln/runtime/data/fashion_mnist.hpp"
#include "kiln/core/comm.hpp"
#include "kiln/core/error.hpp"
#include "kiln/runtime/data/load.hpp"
#include "kiln/runtime/ensemble/ensemble.hpp"
#include "kiln/runtime/io/checkpoint.hpp"
#include "kiln/runtime/io/import.hpp"
#include "kiln/runtime/io/safetensors.hpp"
#include "kiln/runtime/io/trained.hpp"
#include "kiln/runtime/parallel/distributed.hpp"
#include "kiln/runtime/train/fit.hpp"
#include "kiln/runtime/train/interrupt.hpp"

namespace kiln::rt {
namespace {

constexpr int exit_ok = 0, exit_failure = 1, exit_usage = 2;

// Messages from libraries may span lines; a log line per error keeps them greppable.
void print_error(const std::string& message) {
  std::string line = message;
  std::replace(line.begin(), line.end(), '\n', ' ');
  std::fprintf(stderr, "error: %s\n", line.c_str());
}

// What was printed must have reached its place: `kiln ... > /dev/full` is an error, not a
// silent success.
int flushed(int rc) {
  if (std::fflush(stdout) != 0 || std::ferror(stdout)) {
    print_error(std::string("standard output: write error: ") + std::strerror(errno));
    return rc == exit_ok ? exit_failure : rc;
  }
  return rc;
}

struct usage_error {
  std::string message;
};

void require_positive(const char* flag, int value) {
  if (value < 1)
    throw usage_error{std::string(flag) + ": must be at least 1, got " + std::to_string(value)};
}

// Rows are true classes, columns predictions; a width fitting the largest count keeps it compact.
void print_confusion(const eval_result& r) {
  if (r.classes == 0) return;
  const long largest = *std::max_element(r.confusion.begin(), r.confusion.end());
  const auto width =
      1 + static_cast<int>(std::to_string(std::max<long>(largest, r.classes - 1)).size());
  std::fputs("confusion matrix (row: true class, column: predicted)\n   ", stderr);
  for (int c = 0; c < r.classes; ++c) std::fprintf(stderr, "%*d", width, c);
  std::fputc('\n', stderr);
  for (int t = 0; t < r.classes; ++t) {
    std::fprintf(stderr, "%3d", t);
    for (int p = 0; p < r.classes; ++p)
      std::fprintf(stderr, "%*ld", width, r.confusion[static_cast<std::size_t>(t) * r.classes + p]);
    std::fputc('\n', stderr);
  }
}

double accuracy_with_averaged_weights(model& m, const dataset& test, int batch) {
  m.swap_averaged_weights();
  const eval_result r = evaluate(m, test, batch);
  m.swap_averaged_weights();
  return m.info().kind == task::classify ? r.accuracy : r.loss;
}

// --init-from: the weights a run starts from. A file that carries a standardization keeps it:
// the weights expect their inputs standardized so.
standardization start_from(model& m, const run_options& opts) {
  if (opts.init_from.empty()) return {};
  import_options o;
  o.strict = !opts.init_lenient;
  tensor_file file = read_tensor_file(opts.init_from);
  const standardization s = standardization::take(file);
  const import_report r = load_weights(m, file, o);
  if (opts.progress && (!r.missing.empty() || !r.unused.empty()))
    std::fprintf(stderr,
                 "kiln: --init-from %s: %zu tensors loaded, %zu kept their "
                 "initialization, %zu of the file unused\n",
                 opts.init_from.c_str(), r.loaded.size(), r.missing.size(), r.unused.size());
  return s;
}

// What the last stdout line reports: a classifier's accuracy, a regression's mean squared error.
double figure(const model& m, const eval_result& r) {
  return m.info().kind == task::classify ? r.accuracy : r.loss;
}
const char* figure_name(const model& m) {
  return m.info().kind == task::classify ? "accuracy" : "mse";
}

// K members (the plan's ensemble entry or --members), side by side when each has one thread.
// Across ranks (--data-parallel under mpirun), members are placed on ranks (place_members): each
// rank trains its group's members, data-parallel when its group has several ranks, and the
// probabilities are gathered; rank 0 reports.
int train_ensemble(const run_options& opts, const model_factory& make, std::unique_ptr<model> first,
                   const loaded_data& data, fit_options f, const comm& world) {
  if (!opts.resume.empty() || opts.max_steps > 0)
    throw config_error("--resume", "resuming is for single models, not ensembles");
  if (first->info().kind != task::classify)
    throw config_error("--members",
                       "ensembles combine class probabilities; this model is a "
                       "regression");
  const placement place = place_members(opts.members, world.size(), world.rank());
  const comm group = world.split(place.group);
  const bool lead = world.rank() == 0;
  const bool holder = group.rank() == 0;  // reports (and saves) its group's members
  std::vector<std::unique_ptr<model>> owned;
  for (const int k : place.members) {
    if (k == 0) {
      owned.push_back(std::move(first));
      continue;
    }
    run_options member = opts;
    member.seed = opts.seed + static_cast<std::uint64_t>(k);
    member.seed_set = true;
    owned.push_back(make(member));
    start_from(*owned.back(), opts);
  }
  std::vector<model*> members;
  for (auto& m : owned) members.push_back(m.get());
  // Ranks already share the cores: then each trains its members in turn.
  const int parallel =
      opts.threads == 1 && !world.distributed() ? parallel_members(opts.members) : 1;
  if (opts.progress)
    std::fprintf(stderr, "kiln: ensemble of %d members (seeds %llu..%llu), %d at a time\n",
                 opts.members, static_cast<unsigned long long>(opts.seed),
                 static_cast<unsigned long long>(opts.seed + opts.members - 1), parallel);
  if (group.distributed()) f.ranks = &group;
  if (!lead) f.progress = false;
  fit_members(members, data.train, &data.test, f, parallel, place.members);
  const std::span<model* const> held =
      holder ? std::span<model* const>(members) : std::span<model* const>();
  const std::span<const int> ids =
      holder ? std::span<const int>(place.members) : std::span<const int>();
  const ensemble_result r =
      evaluate_ensemble(world, held, ids, opts.members, data.test, opts.batch);
  if (!opts.out_dir.empty())
    for (std::size_t i = 0; i < held.size(); ++i)
      save_trained(*held[i], data.stats,
                   opts.out_dir / ("member" + std::to_string(ids[i])) / "model.safetensors");
  if (lead)
    for (int k = 0; k < opts.members; ++k)
      std::fprintf(stdout, "member_%d_test_accuracy=%.4f\n", k, r.member_accuracy[k]);
  if (members[0]->info().averaged) {  // every rank holds a member: each reaches the sum
    double sum[1] = {0};
    for (model* m : held) sum[0] += accuracy_with_averaged_weights(*m, data.test, opts.batch);
    world.sum(std::span(sum), "the members' EMA accuracies");
    if (lead) std::fprintf(stdout, "ema_mean_member_test_accuracy=%.4f\n", sum[0] / opts.members);
  }
  if (lead) {
    std::fprintf(stdout, "mean_member_test_accuracy=%.4f\n", r.mean_member_accuracy);
    std::fprintf(stdout, "unanimous=%.4f\nany_member_test_accuracy=%.4f\nmembers_right=%s\n",
                 r.unanimous, r.any_member_accuracy, members_right(r).c_str());
    std::fprintf(stdout, "test_accuracy=%.4f\n",
                 members[0]->info().vote ? r.vote_accuracy : r.accuracy);
  }
  std::fflush(stdout);
  return exit_ok;
}

int train(const run_options& opts, const model_factory& make) {
  // Data-parallel: every rank runs this with the same command line; rank 0 writes the files and
  // the results (the others hold the same model).
  const comm& world = opts.data_parallel ? comm::world() : comm::single();
  const bool lead = world.rank() == 0;
  std::unique_ptr<model> m = make(opts);
  if (!m) throw config_error("model", "the factory returned no model");
  if (!opts.init_from.empty() && !opts.resume.empty())
    throw config_error("--init-from", "a resumed run continues from its checkpoint's weights");
  data_spec spec;
  spec.dir = opts.train.empty() ? opts.data_dir : std::filesystem::path();
  spec.train = opts.train;
  spec.test = opts.test;
  spec.label_column = opts.label_column;
  spec.x_key = opts.x_key;
  spec.y_key = opts.y_key;
  spec.val_split = opts.val_split;
  spec.seed = opts.seed;
  // The weights a run starts from may carry the standardization they were trained with: then
  // the data get that one, not statistics of their own.
  const standardization inherited = start_from(*m, opts);
  spec.standardize = opts.standardize && inherited.empty();
  loaded_data data = load_dataset(spec, m->info());
  if (!inherited.empty()) {
    data.stats = inherited;
    data.stats.apply(data.train);
    data.stats.apply(data.test);
  }
  if (opts.progress)
    std::fprintf(
        stderr,
        "kiln: %zu training and %zu test samples from %s%s; %d epochs, batch %d, %d thread%s\n",
        data.train.size(), data.test.size(), data.source.c_str(),
        data.stats.empty()  ? ""
        : inherited.empty() ? ", standardized"
                            : ", standardized as --init-from's weights",
        opts.epochs, opts.batch, opts.threads, opts.threads == 1 ? "" : "s");
  m->set_threads(opts.threads);
  fit_options f;
  f.epochs = opts.epochs;
  f.batch = opts.batch;
  f.seed = opts.seed;
  f.out_dir = opts.out_dir;
  f.progress = opts.progress;
  if (!opts.out_dir.empty()) f.checkpoint = opts.out_dir / "checkpoint.safetensors";
  f.checkpoint_every = opts.checkpoint_every;
  f.resume = opts.resume;
  f.max_steps = opts.max_steps;
  if (opts.members > 1) return train_ensemble(opts, make, std::move(m), data, f, world);
  if (world.distributed()) f.ranks = &world;
  // A snapshot ensemble keeps the weights at the end of every cycle of its schedule.
  std::vector<tensor_file> snapshots;
  if (m->info().snapshot_epochs > 0)
    f.on_epoch_end = [&snapshots](const epoch_record& r, model& trained) {
      if (ends_snapshot_cycle(trained.info(), r.epoch)) snapshots.push_back(snapshot(trained));
    };
  fit_result result;
  {  // (stop_signal() stays set after: result.stopped with it means a signal stopped the run)
    // Ctrl-C or a scheduler's SIGTERM: the step in flight finishes and is checkpointed.
    std::optional<stop_on_signals> stop;
    if (!world.distributed()) stop.emplace();  // ranks stop as mpirun stops them
    result = fit(*m, data.train, &data.test, f);
  }
  if (!lead) return exit_ok;  // the rest is reporting, rank 0's
  if (const int sig = result.stopped ? stop_signal() : 0) {
    if (f.checkpoint.empty()) {
      std::fprintf(stderr, "kiln: %s; no --out, so no checkpoint was written\n", signal_name(sig));
    } else {
      // Read back: the line states what is on disk.
      const long step = read_checkpoint_metadata(read_safetensors(f.checkpoint)).state.steps;
      std::fprintf(stderr,
                   "kiln: %s after step %ld; checkpoint written to %s; continue with the same "
                   "command and --resume %s\n",
                   signal_name(sig), step, f.checkpoint.c_str(), f.checkpoint.c_str());
    }
    return 128 + sig;
  }
  if (result.stopped) {
    if (opts.progress)
      std::fprintf(stderr, "kiln: stopped after %ld steps; continue with --resume %s\n",
                   opts.max_steps,
                   f.checkpoint.empty() ? "(no --out: no checkpoint)" : f.checkpoint.c_str());
    return exit_ok;
  }
  if (!opts.out_dir.empty()) save_trained(*m, data.stats, opts.out_dir / "model.safetensors");
  if (opts.progress) print_confusion(result.test);
  if (m->info().averaged)
    std::fprintf(stdout,
                 m->info().kind == task::classify ? "ema_test_%s=%.4f\n" : "ema_test_%s=%.6g\n",
                 figure_name(*m), accuracy_with_averaged_weights(*m, data.test, opts.batch));
  if (snapshots.size() > 1 && m->info().kind == task::classify)
    std::fprintf(stdout, "snapshot_ensemble_test_accuracy=%.4f (%zu snapshots)\n",
                 evaluate_snapshots(*m, snapshots, data.test, opts.batch).accuracy,
                 snapshots.size());
  if (m->info().kind == task::classify)
    std::fprintf(stdout, "test_accuracy=%.4f\n", result.test.accuracy);
  else
    std::fprintf(stdout, "test_mse=%.6g\n", figure(*m, result.test));
  std::fflush(stdout);
  return exit_ok;
}

}  // namespace

int run_cli(int argc, char** argv, const model_info& defaults, const model_factory& make) {
  if (argc > 1 && argv[1] && std::string(argv[1]) == "predict")
    return run_predict(argc - 1, argv + 1, defaults, make);
  if (argc > 1 && argv[1] && std::string(argv[1]) == "export")
    return run_export(argc - 1, argv + 1, defaults, make);
  run_options opts;
  std::string data_dir = fashion_mnist_dir().string(), out_dir;
  opts.epochs = defaults.epochs;
  opts.batch = defaults.batch;
  opts.seed = defaults.seed;
  bool quiet = false;

  const std::string program =
      argc > 0 && argv[0] ? std::filesystem::path(argv[0]).filename().string() : "kiln-trainer";
  CLI::App app(
      "Trains this model and reports its test accuracy (test_mse for a regression). "
      "Subcommands: `predict --weights FILE --input FILE --output FILE`, "
      "`export --weights FILE --onnx FILE` (see `predict --help`, `export --help`).",
      program);
  auto* data = app.add_option("--data", data_dir,
                              "Folder holding an IDX dataset (MNIST family, .gz or raw) or "
                              "CIFAR-10 binary batches")
                   ->capture_default_str();
  std::string train_file, test_file, init_from;
  app.add_option("--train", train_file, "Training data: .csv, .csv.gz or .npz")->excludes(data);
  app.add_option("--test", test_file, "Test data (same kinds), evaluated after every epoch");
  app.add_option("--label-column", opts.label_column,
                 "CSV: the label column by header name or 0-based index (default: the last); a "
                 "regression model with several outputs: a,b,c");
  app.add_option("--x-key", opts.x_key, "npz: the array of samples")->capture_default_str();
  app.add_option("--y-key", opts.y_key, "npz: the array of labels or targets")
      ->capture_default_str();
  app.add_option("--val-split", opts.val_split,
                 "Hold out this fraction of --train (drawn from --seed) for evaluation, when "
                 "no --test is given");
  app.add_flag("--standardize", opts.standardize,
               "Per feature: subtract the training set's mean, divide by its standard "
               "deviation; the statistics are saved with the weights");
  app.add_option("--init-from", init_from,
                 "Start from these weights (safetensors, .npz, .onnx; kiln or PyTorch names)");
  app.add_flag("--init-lenient", opts.init_lenient,
               "With --init-from: load the tensors that match, keep the others' initialization");
  app.add_option("--epochs", opts.epochs, "Epochs to train")->capture_default_str();
  app.add_option("--batch", opts.batch, "Mini-batch size")->capture_default_str();
  // CLI11 converts "-1" to a huge unsigned value: refuse negative seeds first.
  auto* seed =
      app.add_option("--seed", opts.seed, "Seed for initialization and shuffling")
          ->check(CLI::Validator(
              [](const std::string& v) {
                return v.starts_with('-') ? "must not be negative, got " + v : std::string();
              },
              ""))
          ->capture_default_str();
  app.add_option("--threads", opts.threads, "Threads for the compute kernels")
      ->capture_default_str();
  app.add_option("--out", out_dir,
                 "Folder for metrics.csv, checkpoint.safetensors (after every epoch) and "
                 "model.safetensors (the trained weights); none when not given");
  std::string resume;
  app.add_option("--resume", resume,
                 "Continue the run saved in this checkpoint (same --seed, --batch)");
  app.add_option("--checkpoint-every", opts.checkpoint_every,
                 "Also checkpoint every N steps, mid-epoch (needs --out)");
  opts.members = defaults.members;
  app.add_option("--members", opts.members,
                 "Ensemble members from seeds seed, seed+1, ... (default: the plan's)")
      ->capture_default_str();
  app.add_option("--max-steps", opts.max_steps,
                 "Stop after N steps of the run, checkpointed (needs --out); resume later");
  app.add_flag("--data-parallel", opts.data_parallel,
               "Train across the ranks of mpirun: each rank takes its share of every batch "
               "(ensemble members: placed on ranks)");
  app.add_flag("--overlap", opts.overlap,
               "With --data-parallel: sum each layer's gradients while the backward pass goes on");
  app.add_option("--mpi-timeout", opts.mpi_timeout,
                 "Seconds a rank waits for the others in one exchange before it stops the job "
                 "(default 600, or $KILN_MPI_TIMEOUT)");
  app.add_option("--precision", opts.precision,
                 "Matrix products in f32, or bf16 with f32 accumulation (default: the plan's)")
      ->check(CLI::IsMember({"f32", "bf16"}));
  app.add_flag("--quiet", quiet, "No progress or logs on stderr");
  if (!defaults.summary.empty()) app.footer("Model:\n" + defaults.summary + "\n");

  try {
    app.parse(argc, argv);
    require_positive("--epochs", opts.epochs);
    require_positive("--batch", opts.batch);
    require_positive("--threads", opts.threads);
    require_positive("--members", opts.members);
    if (opts.checkpoint_every < 0 || opts.max_steps < 0)
      throw usage_error{"--checkpoint-every and --max-steps must not be negative"};
    if (opts.mpi_timeout < 0)
      throw usage_error{"--mpi-timeout: must be a positive number of seconds"};
    if (!(opts.val_split >= 0 && opts.val_split < 1))
      throw usage_error{"--val-split: must be a fraction in (0, 1)"};
    if (!test_file.empty() && train_file.empty()) throw usage_error{"--test: needs --train FILE"};
    if (opts.val_split > 0 && (train_file.empty() || !test_file.empty()))
      throw usage_error{"--val-split: holds out part of --train when no --test is given"};
    if (!train_file.empty() && test_file.empty() && opts.val_split == 0)
      throw usage_error{
          "--train: needs --test FILE, or --val-split F to hold out a fraction of it for "
          "evaluation"};
    if (opts.init_lenient && init_from.empty())
      throw usage_error{"--init-lenient: needs --init-from FILE"};
    // Ranks training alone would each write the same files.
    if (comm::launched() && !opts.data_parallel)
      throw usage_error{
          "started by mpirun with several ranks: add --data-parallel (or run "
          "without mpirun)"};
    if (opts.data_parallel && comm::launched() && !comm::available())
      throw usage_error{
          "--data-parallel: this kiln was built without MPI (install "
          "libopenmpi-dev and rebuild)"};
  } catch (const CLI::Success&) {  // --help
    std::fputs(app.help().c_str(), stdout);
    return exit_ok;
  } catch (const CLI::ParseError& e) {
    print_error(std::string(e.what()) + " (see --help)");
    return exit_usage;
  } catch (const usage_error& e) {
    print_error(e.message);
    return exit_usage;
  }
  opts.data_dir = data_dir;
  opts.train = train_file;
  opts.test = test_file;
  opts.init_from = init_from;
  opts.out_dir = out_dir;
  opts.resume = resume;
  opts.seed_set = seed->count() > 0;
  opts.progress = !quiet;

  if (!opts.data_parallel) try {
      return flushed(train(opts, make));
    } catch (const std::exception& e) {
      print_error(e.what());
      return exit_failure;
    }

  // Data-parallel. An error on one rank must not leave the others waiting: it ends the job.
  if (opts.mpi_timeout > 0) comm::set_timeout(opts.mpi_timeout);
  const comm& world = comm::world();
  if (opts.progress)
    std::fprintf(stderr, "kiln: data-parallel, %s%s\n", world.describe().c_str(),
                 world.distributed() ? "" : " (not started by mpirun: training alone)");
  if (world.rank() != 0) opts.progress = false;
  try {
    return flushed(train(opts, make));
  } catch (const std::exception& e) {
    std::string line = e.what();
    std::replace(line.begin(), line.end(), '\n', ' ');
    if (!world.distributed()) {
      print_error(line);
      return exit_failure;
    }
    world.abort(line, exit_failure);
  }
}

}  // namespace kiln::rt
