#include "kiln/runtime/train/fit.hpp"

#include <chrono>
#include <cmath>
#include <limits>
#include <optional>
#include <string>
#include <utility>

#include "kiln/core/error.hpp"
#include "kiln/runtime/data/loader.hpp"
#include "kiln/runtime/io/checkpoint.hpp"
#include "kiln/runtime/train/interrupt.hpp"
#include "kiln/runtime/parallel/distributed.hpp"
#include "kiln/runtime/train/evaluator.hpp"
#include "kiln/runtime/train/inputs.hpp"
#include "kiln/runtime/train/metrics_csv.hpp"
#include "kiln/runtime/train/progress.hpp"
#include "kiln/runtime/train/ranks.hpp"

namespace kiln::rt {
namespace {

namespace fs = std::filesystem;
constexpr double nan = std::numeric_limits<double>::quiet_NaN();

}  // namespace

using namespace detail;

std::vector<batch> chunks(const dataset& data, int batch_size) {
  if (batch_size < 1)
    throw config_error("batch", "must be at least 1, got " + std::to_string(batch_size));
  std::vector<batch> out;
  const auto size = static_cast<std::size_t>(batch_size);
  for (std::size_t first = 0; first < data.size(); first += size)
    out.push_back(view(data, first, std::min(size, data.size() - first)));
  return out;
}

eval_result evaluate(model& m, const dataset& data, int batch_size) {
  require_batch(m, batch_size);
  require_data(m, data, "evaluation data");
  eval_result r;
  evaluator(m, batch_size).run(m, data, r);
  return r;
}

fit_result fit(model& m, const dataset& train, const dataset* test, const fit_options& opts) {
  if (opts.epochs < 1)
    throw config_error("epochs", "must be at least 1, got " + std::to_string(opts.epochs));
  if (opts.checkpoint_every < 0 || opts.max_steps < 0)
    throw config_error(opts.max_steps < 0 ? "max_steps" : "checkpoint_every",
                       "must not be negative");
  require_batch(m, opts.batch);
  require_data(m, train, "training data");
  if (test) require_data(m, *test, "test data");
  // Data-parallel over the ranks of c, or alone (one rank: the same code, no exchange).
  const comm& c = opts.ranks ? *opts.ranks : comm::single();
  const bool parallel = c.distributed(), lead = c.rank() == 0;
  if (parallel) {
    if (m.info().full_batch)
      throw config_error("data-parallel",
                         "full-batch plans (lbfgs, newton_cg) train in one process");
    agree(c, m, train, test, opts);
  }
  const attached dp(m, parallel ? &c : nullptr);

  const bool classify = m.info().kind == task::classify;
  // Full batch: the whole training set every epoch, in order, as views (no loader thread), in
  // one step. Otherwise shuffled (and augmented, if the plan says so) mini-batches from the
  // loader.
  const bool full_batch = m.info().full_batch;
  const std::vector<batch> whole = full_batch ? chunks(train, opts.batch) : std::vector<batch>{};
  std::optional<batch_loader> loader;
  if (!full_batch) {
    loader_options batching;
    batching.batch = opts.batch;
    batching.seed = opts.seed;
    batching.shards = c.size();
    batching.shard = c.rank();
    if (augment_plan plan = m.augmentation(); !plan.empty()) batching.augment = augmenter(plan);
    loader.emplace(train, std::move(batching));
  }
  const long per_epoch = full_batch ? 1 : loader->batches_per_epoch();

  run_position at;
  if (!opts.resume.empty()) {
    // Data-parallel: rank 0 reads the checkpoint (a failure stops every rank) and sends it.
    c.on_root(
        0,
        [&] {
          const checkpoint_info ci = load_checkpoint(opts.resume, m);
          if (ci.seed != opts.seed)
            throw config_error("seed", "the checkpoint's run used " + std::to_string(ci.seed) +
                                           ", this one " + std::to_string(opts.seed));
          if (ci.batch != opts.batch)
            throw config_error("batch", "the checkpoint's run used " + std::to_string(ci.batch) +
                                            ", this one " + std::to_string(opts.batch));
          if (ci.at.batch > per_epoch)
            throw file_error(opts.resume.string(),
                             "its position (batch " + std::to_string(ci.at.batch) +
                                 ") is past the end of an epoch of this data");
          at = ci.at;
        },
        "reading the checkpoint");
    if (parallel) {
      broadcast_position(c, at, 0);
      broadcast_model(c, m, 0);
      // The epoch's running figures stay with rank 0; the others count from there.
      if (!lead) at.loss_sum = 0, at.correct = 0, at.seen = 0;
    }
  } else if (parallel) {
    broadcast_model(c, m, 0);  // as PyTorch's DistributedDataParallel: rank 0's weights
  }
  // Rank 0 writes; a failure there stops every rank.
  const auto save = [&](const run_position& p) {
    if (opts.checkpoint.empty()) return;
    const run_position all = summed(c, p);
    c.on_root(
        0,
        [&] {
          save_checkpoint(opts.checkpoint, m, {all, opts.seed, opts.batch});
        },
        "writing a checkpoint");
  };

  progress_meter progress(opts.progress && lead ? progress_style_for(stderr) : progress_style::off,
                          classify);
  metrics_csv csv(lead ? opts.out_dir : fs::path(), !opts.resume.empty());
  evaluator evaluation(m, opts.batch);

  // Everything is allocated before the first step; the epochs themselves allocate nothing
  // (unless they write checkpoints).
  fit_result result;
  result.epochs.reserve(static_cast<std::size_t>(opts.epochs));
  if (test) evaluation.prepare(result.test);
  for (int epoch = at.epoch; epoch < opts.epochs; ++epoch) {
    m.begin_epoch(epoch, per_epoch);
    epoch_record rec;
    rec.epoch = epoch + 1;
    rec.lr = m.current_lr();
    // Data-parallel: rank 0's progress over its part of the epoch.
    progress.begin_epoch(
        rec.epoch, opts.epochs,
        parallel ? shard_samples(train.size(), opts.batch, c.size(), c.rank()) : train.size());

    using clock = std::chrono::steady_clock;
    const auto start = clock::now();
    // A resumed epoch starts from the checkpoint's position and running figures.
    run_position now = epoch == at.epoch ? at : run_position{epoch};
    const double seconds_before = now.seconds;
    if (full_batch) {
      // The loss where the step started, over the whole set (PyTorch's LBFGS.step returns it).
      const step_result s = m.full_batch_step(whole);
      now.loss_sum = s.loss_sum;
      now.correct = s.correct;
      now.seen = train.size();
      now.batch = 1;
      progress.update(now.seen, now.loss_sum, now.correct);
    } else {
      loader->start_epoch(epoch, now.batch);
      while (const auto b = loader->next()) {
        const step_result s = m.train_step(*b);
        if (s.skipped) {  // a non-finite loss or gradient changed nothing (plan: skip_step)
          ++now.skipped;
        } else {
          now.loss_sum += s.loss_sum;
          now.correct += s.correct;
          now.seen += static_cast<std::size_t>(b->n);
        }
        ++now.batch;
        progress.update(now.seen, now.loss_sum, now.correct);
        const long step = epoch * per_epoch + now.batch;  // of the whole run
        const bool mid_epoch = now.batch < per_epoch;     // the epoch's end checkpoints below
        const bool stop = opts.max_steps > 0 && step >= opts.max_steps && mid_epoch;
        // SIGINT / SIGTERM under stop_on_signals: this step is done; checkpointed here, or at
        // the epoch's end when it was the last. Alone only: ranks would see it at other steps.
        const int sig = parallel || !mid_epoch ? 0 : stop_signal();
        if (stop || sig ||
            (opts.checkpoint_every > 0 && step % opts.checkpoint_every == 0 && mid_epoch)) {
          now.seconds =
              seconds_before + std::chrono::duration<double>(clock::now() - start).count();
          save(now);
        }
        if (stop || sig) {
          result.stopped = true;  // stop_signal() says when a signal did it
          return result;
        }
      }
    }
    rec.seconds = seconds_before + std::chrono::duration<double>(clock::now() - start).count();
    if (parallel) {
      now = summed(c, now);
      require_same_weights(c, m, "epoch " + std::to_string(rec.epoch));
    }

    rec.train_loss = now.loss_sum / static_cast<double>(now.seen);
    rec.train_accuracy =
        classify ? static_cast<double>(now.correct) / static_cast<double>(now.seen) : nan;
    rec.samples_per_second = rec.seconds > 0 ? static_cast<double>(now.seen) / rec.seconds : 0;
    rec.skipped_steps = now.skipped;
    rec.test_loss = rec.test_accuracy = nan;
    if (test) {
      evaluation.run(m, *test, result.test, c);
      rec.test_loss = result.test.loss;
      rec.test_accuracy = result.test.accuracy;
    }
    m.end_epoch({rec.train_loss, rec.train_accuracy, rec.test_loss, rec.test_accuracy});
    csv.write(rec);
    progress.end_epoch(rec);
    result.epochs.push_back(rec);
    save(run_position{epoch + 1});
    if (opts.on_epoch_end) opts.on_epoch_end(rec, m);
    if (const int sig = parallel ? 0 : stop_signal(); sig && epoch + 1 < opts.epochs) {
      result.stopped = true;
      return result;
    }
    if (opts.max_steps > 0 && (epoch + 1) * per_epoch >= opts.max_steps &&
        epoch + 1 < opts.epochs) {
      result.stopped = true;
      return result;
    }
  }
  // A resumed run with nothing left to train still reports where the model stands.
  if (result.epochs.empty() && test) evaluation.run(m, *test, result.test, c);
  return result;
}

}  // namespace kiln::rt
