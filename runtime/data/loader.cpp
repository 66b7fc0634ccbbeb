#include "kiln/runtime/data/loader.hpp"

#include <algorithm>
#include <cstring>
#include <numeric>
#include <stdexcept>
#include <string>
#include <utility>

#include "kiln/core/error.hpp"
#include "kiln/core/team.hpp"

namespace kiln::rt {

namespace {

void fill_order(std::span<std::size_t> order, std::uint64_t seed, int epoch, bool shuffled) {
  std::iota(order.begin(), order.end(), std::size_t{0});
  if (!shuffled) return;
  rng r = epoch_rng(seed, streams::shuffle, static_cast<std::uint64_t>(epoch));
  shuffle(order, r);
}

}  // namespace

std::vector<std::size_t> epoch_order(std::size_t samples, std::uint64_t seed, int epoch) {
  std::vector<std::size_t> order(samples);
  fill_order(order, seed, epoch, true);
  return order;
}

batch_loader::batch_loader(const dataset& data, loader_options opts)
    : data_(data), opts_(std::move(opts)) {
  const std::string name = data.name.empty() ? "dataset" : data.name;
  if (opts_.batch < 1)
    throw config_error("batch", "must be at least 1, got " + std::to_string(opts_.batch));
  if (opts_.shards < 1 || opts_.shard < 0 || opts_.shard >= opts_.shards)
    throw config_error("shard", std::to_string(opts_.shard) + " of " +
                                    std::to_string(opts_.shards) + " does not exist");
  if (opts_.buffers < 2)
    throw config_error("buffers", "must be at least 2, got " + std::to_string(opts_.buffers));
  sample_size_ = data.sample_size();
  if (sample_size_ == 0) throw config_error(name, "samples have no values (empty sample shape)");
  if (data.x.size() % sample_size_ != 0)
    throw config_error(name, std::to_string(data.x.size()) + " values are not a whole number of " +
                                 std::to_string(sample_size_) + "-value samples");
  samples_ = data.size();
  has_labels_ = !data.labels.empty();
  has_targets_ = !data.targets.empty();
  if (has_labels_ && data.labels.size() != samples_)
    throw config_error(name, std::to_string(data.labels.size()) + " labels for " +
                                 std::to_string(samples_) + " samples");
  if (has_targets_ &&
      (data.target_size < 1 ||
       data.targets.size() != samples_ * static_cast<std::size_t>(data.target_size)))
    throw config_error(name, std::to_string(data.targets.size()) + " target values for " +
                                 std::to_string(samples_) + " samples of " +
                                 std::to_string(data.target_size));
  batches_ = static_cast<long>((samples_ + opts_.batch - 1) / opts_.batch);

  // Never more rows than the data has: a batch of 1024 over 10 samples needs 10; a shard, its
  // part of that.
  const auto shards = static_cast<std::size_t>(opts_.shards);
  const std::size_t rows = (std::min<std::size_t>(opts_.batch, samples_) + shards - 1) / shards;
  order_.resize(samples_);
  slots_.resize(static_cast<std::size_t>(opts_.buffers));
  for (slot& s : slots_) {
    s.x.resize(rows * sample_size_);
    if (has_labels_) s.labels.resize(rows);
    if (has_targets_) s.targets.resize(rows * data.target_size);
  }
  producer_ = std::thread(&batch_loader::work, this);
}

batch_loader::~batch_loader() {
  {
    std::lock_guard lock(mutex_);
    quit_ = cancel_ = true;
  }
  epoch_requested_.notify_one();
  slot_free_.notify_one();
  producer_.join();
}

void batch_loader::start_epoch(int epoch, long first_batch) {
  if (first_batch < 0 || first_batch > batches_)
    throw config_error("first_batch", std::to_string(first_batch) + " is outside the epoch's 0.." +
                                          std::to_string(batches_) + " batches");
  std::unique_lock lock(mutex_);
  // Stop what is left of the previous epoch and wait until its producer lets go of the slots.
  cancel_ = true;
  slot_free_.notify_one();
  producer_idle_.wait(lock, [&] { return !producing_; });
  cancel_ = false;
  filled_ = released_ = handed_ = first_batch;
  error_ = nullptr;
  epoch_ = epoch;
  first_batch_ = first_batch;
  epoch_pending_ = producing_ = started_ = true;
  lock.unlock();
  epoch_requested_.notify_one();
}

std::optional<batch> batch_loader::next() {
  std::unique_lock lock(mutex_);
  if (!started_) throw std::logic_error("batch_loader::next() called before start_epoch()");
  if (released_ < handed_) {  // the consumer is done with the batch it held
    released_ = handed_;
    slot_free_.notify_one();
  }
  if (handed_ == batches_) return std::nullopt;
  batch_ready_.wait(lock, [&] { return filled_ > handed_ || error_; });
  if (filled_ <= handed_) std::rethrow_exception(error_);
  const slot& s = slots_[handed_ % slots_.size()];
  ++handed_;
  return batch{s.n,
               s.x.data(),
               has_labels_ ? s.labels.data() : nullptr,
               has_targets_ ? s.targets.data() : nullptr,
               s.offset,
               s.total};
}

void batch_loader::work() noexcept {
  for (;;) {
    int epoch;
    long first_batch;
    {
      std::unique_lock lock(mutex_);
      epoch_requested_.wait(lock, [&] { return quit_ || epoch_pending_; });
      if (quit_) return;
      epoch_pending_ = false;
      epoch = epoch_;
      first_batch = first_batch_;
    }
    try {
      produce(epoch, first_batch);
    } catch (...) {
      std::lock_guard lock(mutex_);
      error_ = std::current_exception();
    }
    {
      std::lock_guard lock(mutex_);
      producing_ = false;
    }
    batch_ready_.notify_one();  // wakes a consumer waiting on a batch that will not come
    producer_idle_.notify_one();
  }
}

void batch_loader::produce(int epoch, long first_batch) {
  fill_order(order_, opts_.seed, epoch, opts_.shuffle);
  rng augment_rng = epoch_rng(opts_.seed, streams::augment, static_cast<std::uint64_t>(epoch));
  const auto buffers = static_cast<long>(slots_.size());
  // Skipped batches: no consumer holds a slot before the first one is handed, so any one can
  // take them.
  if (opts_.augment)
    for (long index = 0; index < first_batch; ++index) fill(slots_[0], index, augment_rng);
  for (long index = first_batch; index < batches_; ++index) {
    {
      std::unique_lock lock(mutex_);
      slot_free_.wait(lock, [&] { return cancel_ || index - released_ < buffers; });
      if (cancel_) return;
    }
    // The slot is ours: the consumer holds at most the batch before it in the ring.
    fill(slots_[index % buffers], index, augment_rng);
    {
      std::lock_guard lock(mutex_);
      filled_ = index + 1;
    }
    batch_ready_.notify_one();
  }
}

void batch_loader::fill(slot& s, long index, rng& augment_rng) {
  std::size_t first = static_cast<std::size_t>(index) * opts_.batch;
  const std::size_t total = std::min<std::size_t>(opts_.batch, samples_ - first);
  const span_range part = share_of(total, opts_.shards, opts_.shard);
  s.n = static_cast<int>(part.size());
  s.offset = static_cast<int>(part.lo);
  s.total = static_cast<int>(total);
  first += part.lo;
  // The other shards' augmentation is drawn too (and dropped): the same numbers per sample as
  // when one loader gathers the whole batch.
  const bool skip = opts_.augment && opts_.shards > 1;
  if (skip && part.lo > 0)
    opts_.augment(nullptr, static_cast<int>(part.lo), data_.sample_shape, augment_rng);
  const std::size_t ts = has_targets_ ? static_cast<std::size_t>(data_.target_size) : 0;
  // The rows are scattered over the dataset (shuffled): ask for the next ones while this one is
  // copied, or each copy waits for memory in turn.
  const std::size_t row_bytes = sample_size_ * sizeof(float);
  auto prefetch = [&](int i) {
    if (i >= s.n) return;
    const char* p =
        reinterpret_cast<const char*>(data_.x.data() + order_[first + i] * sample_size_);
    for (std::size_t b = 0; b < row_bytes; b += 64) __builtin_prefetch(p + b);
  };
  prefetch(0), prefetch(1);
  for (int i = 0; i < s.n; ++i) {
    prefetch(i + 2);
    const std::size_t row = order_[first + i];
    std::memcpy(s.x.data() + i * sample_size_, data_.x.data() + row * sample_size_,
                sample_size_ * sizeof(float));
    if (has_labels_) s.labels[i] = data_.labels[row];
    if (has_targets_)
      std::memcpy(s.targets.data() + i * ts, data_.targets.data() + row * ts, ts * sizeof(float));
  }
  if (opts_.augment && s.n > 0) opts_.augment(s.x.data(), s.n, data_.sample_shape, augment_rng);
  if (skip && part.hi < total)
    opts_.augment(nullptr, static_cast<int>(total - part.hi), data_.sample_shape, augment_rng);
}

}  // namespace kiln::rt
