// The epoch loop: shuffling, prefetched mini-batches, progress, evaluation and metrics.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <vector>

#include "kiln/runtime/data/dataset.hpp"
#include "kiln/runtime/model.hpp"
#include "kiln/core/comm.hpp"

namespace kiln::rt {

struct eval_result {
  double loss = 0;      // mean over samples
  double accuracy = 0;  // classify only
  int classes = 0;
  std::vector<long> confusion;  // classes x classes, row = true label, column = prediction
};

struct epoch_record {
  int epoch = 0;  // 1-based
  double lr = 0;  // NaN: the optimizer has none (newton_cg)
  double train_loss = 0, train_accuracy = 0;
  double test_loss = 0, test_accuracy = 0;  // NaN when there is no test set
  double seconds = 0;                       // training loop only
  double samples_per_second = 0;
  long skipped_steps = 0;  // a non-finite loss or gradient: the step changed nothing (skip_step)
};

struct fit_options {
  int epochs = 1;
  int batch = 64;
  std::uint64_t seed = 0;         // drives the per-epoch shuffle (the model owns its own init seed)
  std::filesystem::path out_dir;  // metrics.csv goes here; empty: write no files
  bool progress = true;           // progress on stderr (a bar on a TTY, plain lines otherwise)
  // Checkpoints (runtime/io/checkpoint.hpp): when `checkpoint` is set, written atomically after
  // every epoch, every `checkpoint_every` steps (0: epochs only) and when max_steps stops the
  // run. (Writing one allocates; epochs without checkpoints allocate nothing.)
  std::filesystem::path checkpoint;
  long checkpoint_every = 0;
  // Continue the run saved in this checkpoint: same weights, optimizer state, generator, epoch
  // and position in it, so the result is bitwise what an uninterrupted run gives. The seed and
  // batch must be the checkpoint's. metrics.csv is appended to.
  std::filesystem::path resume;
  long max_steps = 0;  // stop after this many steps of the whole run (0: no limit)
  // Called after every epoch (its record, the model): snapshot ensembles keep weights here.
  std::function<void(const epoch_record&, model&)> on_epoch_end;
  // Data-parallel training over `ranks` (several ranks; null or one rank: alone).
  // Every rank calls fit with the same model, data and options; each trains on its part of every
  // global batch of `batch` samples, the model sums the gradients over the ranks, so that the
  // result is the single-process one up to the order of floating-point sums. Rank 0 starts
  // everyone from its weights, writes metrics.csv and checkpoints and shows progress; evaluation
  // is split among the ranks; after every epoch the weights are checked to be identical on all
  // ranks. A resumed run is read by rank 0 and sent to the others (any number of ranks).
  const comm* ranks = nullptr;
};

struct fit_result {
  std::vector<epoch_record> epochs;  // the epochs this call finished
  bool stopped = false;              // max_steps ended the run before its last epoch
  eval_result test;                  // after the last epoch (empty when there is no test set)
};

// Trains `m` on `train` for opts.epochs epochs; evaluates on `test` (may be null) after each.
// A full-batch model (info().full_batch) takes one full_batch_step over the whole of `train`
// per epoch, in chunks of opts.batch, in order (no shuffling: the same function every epoch).
fit_result fit(model& m, const dataset& train, const dataset* test, const fit_options& opts);

// The dataset as consecutive batches of at most `batch` samples, in order: views into its
// memory, nothing copied (what full_batch_step takes).
std::vector<batch> chunks(const dataset& data, int batch);

// Evaluation-mode pass over a dataset in batches of at most `batch` samples.
eval_result evaluate(model& m, const dataset& data, int batch);

}  // namespace kiln::rt
