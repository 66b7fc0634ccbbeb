#define BOOST_TEST_MODULE runtime_loader
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <atomic>
#include <memory>
#include <cstdlib>
#include <new>
#include <numeric>
#include <thread>

#include "kiln/runtime/data/loader.hpp"
#include "kiln/core/error.hpp"
#include "kiln/core/team.hpp"
#include "../support/runtime.hpp"

#include "../support/allocations.hpp"  // the allocation counter: kiln::test::allocations

using namespace kiln;
using namespace kiln::test;

namespace {

// Sample i is `features` copies of i, labelled i % 7, with target -i.
rt::dataset numbered(std::size_t n, int features = 3) {
  rt::dataset d;
  d.name = "numbered";
  d.sample_shape = {features};
  d.classes = 7;
  d.target_size = 1;
  for (std::size_t i = 0; i < n; ++i) {
    for (int f = 0; f < features; ++f) d.x.push_back(static_cast<float>(i));
    d.labels.push_back(static_cast<std::int32_t>(i % 7));
    d.targets.push_back(-static_cast<float>(i));
  }
  return d;
}

// The sample ids of one epoch, in the order the loader gave them, checking each batch's rows.
std::vector<std::size_t> run_epoch(rt::batch_loader& loader, int epoch, int features = 3,
                                   std::vector<int>* batch_sizes = nullptr) {
  std::vector<std::size_t> ids;
  loader.start_epoch(epoch);
  while (const auto b = loader.next()) {
    if (batch_sizes) batch_sizes->push_back(b->n);
    for (int i = 0; i < b->n; ++i) {
      const float id = b->x[i * features];
      for (int f = 1; f < features; ++f) BOOST_REQUIRE(b->x[i * features + f] == id);
      BOOST_REQUIRE(b->labels[i] == static_cast<std::int32_t>(id) % 7);
      BOOST_REQUIRE(b->targets[i] == -id);
      ids.push_back(static_cast<std::size_t>(id));
    }
  }
  return ids;
}

rt::loader_options with_batch(int batch, std::uint64_t seed = 1) {
  rt::loader_options o;
  o.batch = batch;
  o.seed = seed;
  return o;
}

}  // namespace

BOOST_AUTO_TEST_CASE(every_sample_once_per_epoch_and_partial_last_batch) {
  const rt::dataset data = numbered(103);
  rt::batch_loader loader(data, with_batch(10));
  BOOST_TEST(loader.batches_per_epoch() == 11);
  BOOST_TEST(loader.samples() == 103u);
  for (int epoch = 0; epoch < 3; ++epoch) {
    std::vector<int> sizes;
    std::vector<std::size_t> ids = run_epoch(loader, epoch, 3, &sizes);
    BOOST_TEST(sizes.size() == 11u);
    BOOST_TEST(sizes.back() == 3);
    BOOST_TEST(std::all_of(sizes.begin(), sizes.end() - 1, [](int n) { return n == 10; }));
    std::sort(ids.begin(), ids.end());
    std::vector<std::size_t> all(103);
    std::iota(all.begin(), all.end(), std::size_t{0});
    BOOST_TEST(ids == all, boost::test_tools::per_element());
  }
}

BOOST_AUTO_TEST_CASE(order_follows_seed_and_epoch) {
  const rt::dataset data = numbered(50);
  rt::batch_loader a(data, with_batch(8, 42)), b(data, with_batch(8, 42)),
      c(data, with_batch(8, 43));
  const auto a0 = run_epoch(a, 0), a1 = run_epoch(a, 1);
  BOOST_TEST(a0 == run_epoch(b, 0), boost::test_tools::per_element());
  BOOST_TEST(a0 != a1);
  BOOST_TEST(a0 != run_epoch(c, 0));
  BOOST_TEST(a0 == rt::epoch_order(50, 42, 0), boost::test_tools::per_element());
  BOOST_TEST(a1 == rt::epoch_order(50, 42, 1), boost::test_tools::per_element());
  std::vector<std::size_t> identity(50);
  std::iota(identity.begin(), identity.end(), std::size_t{0});
  BOOST_TEST(a0 != identity);
}

BOOST_AUTO_TEST_CASE(an_epoch_does_not_depend_on_the_epochs_before_it) {
  const rt::dataset data = numbered(40);
  rt::batch_loader from_start(data, with_batch(6)), resumed(data, with_batch(6));
  run_epoch(from_start, 0);
  run_epoch(from_start, 1);
  BOOST_TEST(run_epoch(from_start, 2) == run_epoch(resumed, 2), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(without_shuffle_the_order_is_the_dataset_order) {
  const rt::dataset data = numbered(20);
  rt::loader_options o = with_batch(6);
  o.shuffle = false;
  rt::batch_loader loader(data, o);
  std::vector<std::size_t> identity(20);
  std::iota(identity.begin(), identity.end(), std::size_t{0});
  BOOST_TEST(run_epoch(loader, 5) == identity, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(batch_larger_than_the_data_and_empty_data) {
  const rt::dataset small = numbered(5);
  rt::batch_loader loader(small, with_batch(64));
  std::vector<int> sizes;
  BOOST_TEST(run_epoch(loader, 0, 3, &sizes).size() == 5u);
  BOOST_TEST(sizes == std::vector<int>{5}, boost::test_tools::per_element());

  const rt::dataset empty = numbered(0);
  rt::batch_loader none(empty, with_batch(4));
  BOOST_TEST(none.batches_per_epoch() == 0);
  none.start_epoch(0);
  BOOST_TEST(!none.next());
}

BOOST_AUTO_TEST_CASE(augmentation_runs_in_the_loader_thread) {
  const rt::dataset data = numbered(30, 4);
  std::atomic<int> calls{0};
  std::atomic<bool> other_thread{true}, wrong_shape{false};
  const auto consumer = std::this_thread::get_id();
  rt::loader_options o = with_batch(7);
  o.augment = [&](float* x, int n, std::span<const int> shape, rt::rng& r) {
    ++calls;
    // Boost.Test assertions are not thread-safe: record what to check afterwards.
    if (std::this_thread::get_id() == consumer) other_thread = false;
    if (shape.size() != 1 || shape[0] != 4) wrong_shape = true;
    for (int i = 0; i < n * 4; ++i) x[i] = -1;  // a trivial transform
    x[0] = r.uniform();                         // reproducible from (seed, epoch)
  };
  rt::batch_loader loader(data, o);
  std::vector<float> firsts;
  for (int pass = 0; pass < 2; ++pass) {
    loader.start_epoch(3);
    while (const auto b = loader.next()) {
      BOOST_TEST(b->x[1] == -1.0f);
      BOOST_TEST(b->x[b->n * 4 - 1] == -1.0f);
      firsts.push_back(b->x[0]);
    }
  }
  BOOST_TEST(calls == 10);
  BOOST_TEST(other_thread);
  BOOST_TEST(!wrong_shape);
  BOOST_TEST(std::equal(firsts.begin(), firsts.begin() + 5, firsts.begin() + 5));
  BOOST_TEST(firsts[0] != firsts[1]);
  // The source data is untouched.
  BOOST_TEST(data.x[5] == 1.0f);
}

// Data-parallel loading: the shards of every batch, put side by side, are the batch one loader
// gathers alone, augmentation included (each sample gets the same random numbers).
BOOST_AUTO_TEST_CASE(shards_of_a_batch_make_the_whole_batch) {
  const rt::dataset data = numbered(23, 2);
  // Adds one draw per sample; with x == nullptr (another shard's samples) draws and drops.
  const auto jitter = [](float* x, int n, std::span<const int>, rt::rng& r) {
    for (int i = 0; i < n; ++i) {
      const float u = r.uniform();
      if (x) x[2 * i + 1] += u;
    }
  };
  for (const int shards : {1, 2, 3, 5}) {
    rt::loader_options o = with_batch(7, 4);
    o.augment = jitter;
    rt::batch_loader whole(data, o);
    std::vector<std::unique_ptr<rt::batch_loader>> parts;
    for (int k = 0; k < shards; ++k) {
      o.shards = shards, o.shard = k;
      parts.push_back(std::make_unique<rt::batch_loader>(data, o));
      parts.back()->start_epoch(2, 1);  // mid-epoch resume: the skipped batch's draws too
    }
    whole.start_epoch(2, 1);
    BOOST_TEST_CONTEXT("shards " << shards) {
      while (const auto b = whole.next()) {
        std::vector<float> joined;
        std::vector<std::int32_t> labels;
        for (int k = 0; k < shards; ++k) {
          const auto p = parts[std::size_t(k)]->next();
          BOOST_TEST_REQUIRE(p.has_value());
          BOOST_TEST(p->total == b->n);
          BOOST_TEST(p->global() == b->n);
          BOOST_TEST(p->offset == int(joined.size() / 2));
          BOOST_TEST(p->n == int(rt::share_of(std::size_t(b->n), shards, k).size()));
          joined.insert(joined.end(), p->x, p->x + 2 * p->n);
          labels.insert(labels.end(), p->labels, p->labels + p->n);
        }
        BOOST_TEST(joined == std::vector<float>(b->x, b->x + 2 * b->n),
                   boost::test_tools::per_element());
        BOOST_TEST(labels == std::vector<std::int32_t>(b->labels, b->labels + b->n),
                   boost::test_tools::per_element());
      }
      for (auto& p : parts) BOOST_TEST(!p->next());
    }
  }
}

BOOST_AUTO_TEST_CASE(a_shard_may_be_empty_in_a_small_last_batch) {
  rt::loader_options o = with_batch(4);
  o.shards = 3, o.shard = 0;
  const rt::dataset data = numbered(5);  // batches of 4 (shards of 1, 1, 2) and 1 (0, 0, 1)
  rt::batch_loader loader(data, o);
  loader.start_epoch(0);
  BOOST_TEST(loader.next()->n == 1);
  const auto last = loader.next();
  BOOST_TEST(last->n == 0);
  BOOST_TEST(last->total == 1);
  BOOST_TEST(!loader.next());
  o.shard = 3;
  expect_error<config_error>([&] { rt::batch_loader bad(data, o); }, "shard", "3 of 3");
}

BOOST_AUTO_TEST_CASE(an_augmentation_error_reaches_the_consumer) {
  const rt::dataset data = numbered(30);
  rt::loader_options o = with_batch(4);
  int batches = 0;
  o.augment = [&](float*, int, std::span<const int>, rt::rng&) {
    if (++batches == 3) throw std::runtime_error("augmentation broke");
  };
  rt::batch_loader loader(data, o);
  loader.start_epoch(0);
  BOOST_TEST(loader.next().has_value());
  BOOST_TEST(loader.next().has_value());
  BOOST_CHECK_EXCEPTION(loader.next(), std::runtime_error, [](const std::runtime_error& e) {
    return std::string(e.what()) == "augmentation broke";
  });
}

// A hang shows as this test never ending, which CTest's timeout reports; no wall-clock limit
// here (a loaded machine would break one, a hang needs none).
BOOST_AUTO_TEST_CASE(stopping_early_does_not_hang) {
  const rt::dataset data = numbered(10000);
  {
    rt::batch_loader loader(data, with_batch(3));
    loader.start_epoch(0);
    BOOST_TEST(loader.next().has_value());
  }  // destroyed mid-epoch with the producer blocked on a full ring
  try {
    rt::batch_loader loader(data, with_batch(3));
    loader.start_epoch(0);
    loader.next();
    throw std::runtime_error("consumer failed");
  } catch (const std::runtime_error&) {
  }
  {
    rt::batch_loader loader(data, with_batch(3));
    loader.start_epoch(0);
    loader.next();
    std::vector<int> sizes;
    BOOST_TEST(run_epoch(loader, 1, 3, &sizes).size() == 10000u);  // restarted mid-epoch
  }
}

BOOST_AUTO_TEST_CASE(no_allocation_per_batch_or_epoch) {
  const rt::dataset data = numbered(5000, 16);
  rt::batch_loader loader(data, with_batch(32));
  const long before = allocations.load();
  long batches = 0;
  for (int epoch = 0; epoch < 3; ++epoch) {
    loader.start_epoch(epoch);
    while (loader.next()) ++batches;
  }
  loader.start_epoch(3);  // and abandoned mid-way
  loader.next();
  loader.start_epoch(4);
  BOOST_TEST(batches == 3 * 157);
  BOOST_TEST(allocations.load() == before);
}

BOOST_AUTO_TEST_CASE(invalid_options) {
  const rt::dataset data = numbered(10);
  expect_error<config_error>([&] { rt::batch_loader(data, with_batch(0)); }, "batch",
                             "must be at least 1, got 0");
  rt::loader_options one_buffer = with_batch(4);
  one_buffer.buffers = 1;
  expect_error<config_error>([&] { rt::batch_loader(data, one_buffer); }, "buffers",
                             "must be at least 2, got 1");
  rt::batch_loader loader(data, with_batch(4));
  BOOST_CHECK_THROW(loader.next(), std::logic_error);
}
