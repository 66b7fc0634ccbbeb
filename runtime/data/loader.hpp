// Mini-batches of a dataset, shuffled per epoch and gathered by a background thread while the
// model trains on the previous batch.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <optional>
#include <span>
#include <thread>
#include <vector>

#include "kiln/runtime/data/dataset.hpp"
#include "kiln/runtime/model.hpp"
#include "kiln/core/rng.hpp"

namespace kiln::rt {

// Per-batch augmentation, run in the loader thread on the batch's own copy of the samples: `x`
// holds `n` samples of `sample_shape` back to back, to change in place. `r` is the epoch's
// augmentation generator (epoch_rng(seed, streams::augment, epoch)), so results are reproducible.
using augment_fn = std::function<void(float* x, int n, std::span<const int> sample_shape, rng& r)>;

struct loader_options {
  int batch = 64;
  std::uint64_t seed = 0;
  bool shuffle = true;  // false: dataset order
  int buffers = 3;      // batches in memory: one held by the consumer, the others prefetched (>= 2)
  augment_fn augment;   // empty: none
  // Data-parallel training: every batch of `batch` samples is cut into `shards` contiguous parts
  // (rt::split) and this loader gathers only part `shard`, its rank's share (possibly empty, in
  // a last batch smaller than the ranks). The order is the same on every rank: it depends on
  // the seed and epoch only. So that a sample gets the same augmentation whichever rank holds
  // it, the random numbers of the other parts are drawn and dropped: `augment` is then called
  // with x == nullptr and the count of samples to skip.
  int shards = 1, shard = 0;
};

// The sample order of epoch `epoch` (0-based): a permutation drawn from
// epoch_rng(seed, streams::shuffle, epoch).
std::vector<std::size_t> epoch_order(std::size_t samples, std::uint64_t seed, int epoch);

// Usage:
//   batch_loader loader(train, {.batch = 64, .seed = 1});
//   for (int e = 0; e < epochs; ++e) {
//     loader.start_epoch(e);
//     while (auto b = loader.next()) model.train_step(*b);
//   }
// Every sample appears once per epoch; the last batch may be partial (no drop_last). Buffers are
// allocated once: neither a batch nor an epoch allocates. `data` must outlive the loader. Stopping
// early (destroying the loader, or starting another epoch mid-way) cancels the prefetch cleanly.
class batch_loader {
 public:
  batch_loader(const dataset& data, loader_options opts);
  ~batch_loader();
  batch_loader(const batch_loader&) = delete;
  batch_loader& operator=(const batch_loader&) = delete;

  std::size_t samples() const noexcept { return samples_; }  // of the dataset, every shard's
  long batches_per_epoch() const noexcept { return batches_; }

  // Starts gathering epoch `epoch` (0-based) in the background, dropping what is left of the
  // epoch before.
  // `first_batch` > 0 resumes the epoch there (a checkpoint taken mid-epoch): the batches before
  // it are skipped, their augmentation still drawn so that the ones after it get the same random
  // numbers as in an uninterrupted epoch.
  void start_epoch(int epoch, long first_batch = 0);

  // The next batch of the epoch, or nullopt after its last one: this shard's part of it, with
  // batch::offset and batch::total saying where (n may be 0). The batch's memory stays valid
  // until the following next(), start_epoch() or the destructor. An exception thrown in the
  // loader thread (by the augmentation) is rethrown here.
  std::optional<batch> next();

 private:
  struct slot {
    std::vector<float> x;
    std::vector<std::int32_t> labels;
    std::vector<float> targets;
    int n = 0;
    int offset = 0, total = 0;  // where the shard is in the whole batch, and its size
  };

  void work() noexcept;
  void produce(int epoch, long first_batch);
  void fill(slot& s, long index, rng& augment_rng);

  const dataset& data_;
  loader_options opts_;
  std::size_t samples_ = 0, sample_size_ = 0;
  long batches_ = 0;
  bool has_labels_ = false, has_targets_ = false;
  std::vector<std::size_t> order_;  // the producer's
  std::vector<slot> slots_;

  // One producer thread for the loader's lifetime: starting an epoch allocates nothing.
  std::mutex mutex_;
  std::condition_variable epoch_requested_, batch_ready_, slot_free_, producer_idle_;
  int epoch_ = 0;
  long first_batch_ = 0;        // where the requested epoch starts
  bool epoch_pending_ = false;  // start_epoch() asked, the producer has not begun yet
  bool producing_ = false;      // from start_epoch() until the producer stops
  bool cancel_ = false;         // stop producing the current epoch
  bool quit_ = false;           // end the producer thread
  bool started_ = false;
  long filled_ = 0;    // batches of this epoch gathered so far
  long released_ = 0;  // batches the consumer is done with
  long handed_ = 0;    // batches given to the consumer
  std::exception_ptr error_;
  std::thread producer_;
};

}  // namespace kiln::rt
