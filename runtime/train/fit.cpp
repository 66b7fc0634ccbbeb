#include "kiln/runtime/train/fit.hpp"

#include <algorithm>
#include <bit>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <utility>

#include "kiln/runtime/data/loader.hpp"
#include "kiln/runtime/error.hpp"
#include "kiln/runtime/io/checkpoint.hpp"
#include "kiln/runtime/train/interrupt.hpp"
#include "kiln/runtime/parallel/distributed.hpp"
#include "kiln/runtime/parallel/team.hpp"
#include "kiln/runtime/train/progress.hpp"

namespace kiln::rt {
namespace {

namespace fs = std::filesystem;
constexpr double nan = std::numeric_limits<double>::quiet_NaN();

std::string shape_text(const std::vector<int>& shape) {
  std::string s;
  for (int d : shape) s += (s.empty() ? "" : "x") + std::to_string(d);
  return s.empty() ? "(none)" : s;
}

std::size_t product(const std::vector<int>& shape) {
  std::size_t p = 1;
  for (int d : shape) p *= static_cast<std::size_t>(std::max(d, 0));
  return p;
}

// Samples [first, first + count) of `data` as a batch: a view, nothing copied.
batch view(const dataset& data, std::size_t first, std::size_t count) {
  return {
      static_cast<int>(count), data.x.data() + first * data.sample_size(),
      data.labels.empty() ? nullptr : data.labels.data() + first,
      data.targets.empty() ? nullptr : data.targets.data() + first * std::size_t(data.target_size)};
}

// Everything the model would otherwise trip over in the middle of an epoch.
void check_data(const model& m, const dataset& data, const std::string& role) {
  const model_info& info = m.info();
  const std::string name = data.name.empty() ? role : role + " (" + data.name + ")";
  if (data.size() == 0) throw config_error(name, "has no samples");
  if (data.sample_size() != product(info.input))
    throw config_error(
        name, "sample shape " + shape_text(data.sample_shape) + " (" +
                  std::to_string(data.sample_size()) + " values) does not match the model input " +
                  shape_text(info.input) + " (" + std::to_string(product(info.input)) + " values)");
  // Same count, other layout (3x32x32 against 1x96x32) would train on scrambled pixels; a flat
  // side (a CSV row, a model taking {784}) has no layout to disagree with.
  if (data.sample_shape.size() > 1 && info.input.size() > 1 && data.sample_shape != info.input)
    throw config_error(name, "sample shape " + shape_text(data.sample_shape) +
                                 " does not match the model input " + shape_text(info.input));
  if (data.x.size() != data.size() * data.sample_size())
    throw config_error(name, std::to_string(data.x.size()) + " values are not a whole number of " +
                                 std::to_string(data.sample_size()) + "-value samples");
  // A NaN in the data would surface steps later as a non-finite loss: name it now.
  const auto finite = [&](const std::vector<float>& v, std::size_t per_sample, const char* what) {
    const auto bad = std::find_if(v.begin(), v.end(), [](float x) { return !std::isfinite(x); });
    if (bad == v.end()) return;
    const auto at = static_cast<std::size_t>(bad - v.begin());
    throw config_error(name, std::string(what) + " " + std::to_string(at % per_sample) +
                                 " of sample " + std::to_string(at / per_sample) + " is " +
                                 (std::isnan(*bad) ? "NaN" : "infinite"));
  };
  finite(data.x, data.sample_size(), "value");
  if (info.kind == task::classify) {
    if (data.labels.size() != data.size())
      throw config_error(name, std::to_string(data.labels.size()) + " labels for " +
                                   std::to_string(data.size()) + " samples");
    for (std::size_t i = 0; i < data.labels.size(); ++i)
      if (data.labels[i] < 0 || data.labels[i] >= info.outputs)
        throw config_error(name, "label " + std::to_string(data.labels[i]) + " of sample " +
                                     std::to_string(i) + " is outside [0, " +
                                     std::to_string(info.outputs) + ") (the model's outputs)");
  } else {
    if (data.target_size != info.outputs)
      throw config_error(name, "targets have " + std::to_string(data.target_size) +
                                   " values per sample, the model outputs " +
                                   std::to_string(info.outputs));
    if (data.targets.size() != data.size() * static_cast<std::size_t>(info.outputs))
      throw config_error(name, std::to_string(data.targets.size()) + " target values for " +
                                   std::to_string(data.size()) + " samples");
    finite(data.targets, static_cast<std::size_t>(info.outputs), "target");
  }
}

void check_batch(const model& m, int batch) {
  if (batch < 1) throw config_error("batch", "must be at least 1, got " + std::to_string(batch));
  // The model's buffers are sized for its batch; a larger one would overrun them.
  if (const int built = m.info().batch; built > 0 && batch > built)
    throw config_error("batch", std::to_string(batch) +
                                    " is larger than the batch size the model was built for (" +
                                    std::to_string(built) + ")");
}

class metrics_csv {
 public:
  // `append`: a resumed run adds its epochs to the rows already there.
  metrics_csv(const fs::path& dir, bool append) {
    if (dir.empty()) return;
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) throw file_error(dir.string(), "cannot create the folder: " + ec.message());
    path_ = dir / "metrics.csv";
    const bool header = !append || !fs::exists(path_, ec);
    out_.open(path_, header ? std::ios::trunc : std::ios::app);
    if (!out_) throw file_error(path_.string(), "cannot open for writing");
    if (header)
      out_ << "epoch,lr,train_loss,train_accuracy,test_loss,test_accuracy,seconds,"
              "samples_per_second,skipped_steps\n";
    flush();
  }

  void write(const epoch_record& r) {
    if (path_.empty()) return;
    char row[256];
    int n = std::snprintf(row, sizeof row, "%d", r.epoch);
    // A missing figure (no test set, accuracy of a regression) is an empty cell.
    const auto cell = [&](const char* fmt, double v) {
      n += std::snprintf(row + n, sizeof row - n, ",");
      if (!std::isnan(v)) n += std::snprintf(row + n, sizeof row - n, fmt, v);
    };
    cell("%.9g", r.lr);
    cell("%.6f", r.train_loss);
    cell("%.6f", r.train_accuracy);
    cell("%.6f", r.test_loss);
    cell("%.6f", r.test_accuracy);
    cell("%.4f", r.seconds);
    cell("%.1f", r.samples_per_second);
    n += std::snprintf(row + n, sizeof row - n, ",%ld", r.skipped_steps);
    n += std::snprintf(row + n, sizeof row - n, "\n");
    out_.write(row, n);
    flush();
  }

 private:
  void flush() {
    out_.flush();
    if (!out_) throw file_error(path_.string(), "write failed");
  }

  fs::path path_;
  std::ofstream out_;
};

// Buffers for evaluating one dataset repeatedly: after the first run, nothing is allocated.
class evaluator {
 public:
  evaluator(const model& m, int batch_size)
      : batch_(batch_size),
        outputs_(static_cast<std::size_t>(m.info().outputs)),
        classify_(m.info().kind == task::classify),
        out_(classify_ ? static_cast<std::size_t>(batch_size) * outputs_ : 0) {}

  // Sizes r for the results, so that run() reuses its memory.
  void prepare(eval_result& r) const {
    r.classes = classify_ ? static_cast<int>(outputs_) : 0;
    r.confusion.assign(classify_ ? outputs_ * outputs_ : 0, 0);
  }

  // Data-parallel (several ranks in c): each rank evaluates its part of the data and the sums
  // are shared, so every rank gets the whole data's result.
  void run(model& m, const dataset& data, eval_result& r, const comm& c = comm::single()) {
    const std::size_t n = data.size(), sample = data.sample_size();
    prepare(r);
    double loss_sum = 0;
    const span_range part = split(n, c.size(), c.rank());
    // Rows are contiguous: batches are views into the dataset, nothing is copied.
    for (std::size_t first = part.lo; first < part.hi; first += static_cast<std::size_t>(batch_)) {
      const int count = static_cast<int>(std::min<std::size_t>(batch_, part.hi - first));
      const batch b{count, data.x.data() + first * sample,
                    classify_ ? data.labels.data() + first : nullptr,
                    classify_ ? nullptr : data.targets.data() + first * outputs_};
      loss_sum += m.eval_step(b, classify_ ? out_.data() : nullptr).loss_sum;
      if (!classify_) continue;
      for (int i = 0; i < count; ++i) {
        const float* row = out_.data() + i * outputs_;
        const auto predicted =
            static_cast<std::size_t>(std::max_element(row, row + outputs_) - row);
        ++r.confusion[static_cast<std::size_t>(b.labels[i]) * outputs_ + predicted];
      }
    }
    if (c.distributed()) {
      c.sum(std::span(&loss_sum, 1), "the evaluation loss");
      c.sum(std::span(r.confusion), "the confusion matrix");
    }
    r.loss = loss_sum / static_cast<double>(n);
    r.accuracy = nan;
    if (classify_) {
      long right = 0;
      for (std::size_t c = 0; c < outputs_; ++c) right += r.confusion[c * outputs_ + c];
      r.accuracy = static_cast<double>(right) / static_cast<double>(n);
    }
  }

 private:
  int batch_;
  std::size_t outputs_;
  bool classify_;
  std::vector<float> out_;
};

// The samples one rank of `ranks` trains on in an epoch: its part of every batch.
std::size_t shard_samples(std::size_t samples, int batch, int ranks, int rank) {
  std::size_t n = 0;
  for (std::size_t first = 0; first < samples; first += static_cast<std::size_t>(batch))
    n += split(std::min<std::size_t>(batch, samples - first), ranks, rank).size();
  return n;
}

// Data-parallel: everything the ranks must share before they train together.
void agree(const comm& c, const model& m, const dataset& train, const dataset* test,
           const fit_options& opts) {
  check_same(c, "model and plan (fingerprint)", std::hash<std::string>{}(m.fingerprint()));
  check_same(c, "batch", static_cast<std::uint64_t>(opts.batch));
  check_same(c, "seed", opts.seed);
  check_same(c, "epochs", static_cast<std::uint64_t>(opts.epochs));
  check_same(c, "max_steps", static_cast<std::uint64_t>(opts.max_steps));
  check_same(c, "checkpoint_every", static_cast<std::uint64_t>(opts.checkpoint_every));
  check_same(c, "resume", opts.resume.empty() ? 0 : 1);
  check_same(c, "training data", data_hash(train));
  check_same(c, "test data", test ? data_hash(*test) : 0);
}

// The running figures of an epoch summed over the ranks (each rank counts its own samples).
run_position summed(const comm& c, run_position p) {
  if (!c.distributed()) return p;
  double v[3] = {p.loss_sum, double(p.correct), double(p.seen)};  // exact below 2^53
  c.sum(std::span(v), "the epoch's loss and accuracy");
  p.loss_sum = v[0], p.correct = long(v[1]), p.seen = std::size_t(v[2]);
  return p;
}

// Rank `root`'s position in the run to every rank.
void broadcast_position(const comm& c, run_position& p, int root) {
  std::uint64_t v[6] = {
      std::uint64_t(p.epoch),   std::uint64_t(p.batch), std::bit_cast<std::uint64_t>(p.loss_sum),
      std::uint64_t(p.correct), std::uint64_t(p.seen),  std::bit_cast<std::uint64_t>(p.seconds)};
  c.broadcast(std::span(v), root, "the checkpoint's position");
  p = {int(v[0]),  long(v[1]),        std::bit_cast<double>(v[2]),
       long(v[3]), std::size_t(v[4]), std::bit_cast<double>(v[5])};
}

// set_comm for the duration of a fit, whatever way it ends.
class attached {
 public:
  attached(model& m, const comm* c) : m_(m) { m_.set_comm(c); }
  ~attached() { m_.set_comm(nullptr); }
  attached(const attached&) = delete;
  attached& operator=(const attached&) = delete;

 private:
  model& m_;
};

}  // namespace

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
  check_batch(m, batch_size);
  check_data(m, data, "evaluation data");
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
  check_batch(m, opts.batch);
  check_data(m, train, "training data");
  if (test) check_data(m, *test, "test data");
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
      check_same_weights(c, m, "epoch " + std::to_string(rec.epoch));
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
