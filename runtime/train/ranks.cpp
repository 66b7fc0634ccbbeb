#include "kiln/runtime/train/ranks.hpp"

#include <bit>
#include <cstdint>
#include <functional>
#include <span>
#include <string>

#include "kiln/core/team.hpp"
#include "kiln/runtime/parallel/distributed.hpp"

namespace kiln::rt::detail {

std::size_t shard_samples(std::size_t samples, int batch, int ranks, int rank) {
  std::size_t n = 0;
  for (std::size_t first = 0; first < samples; first += static_cast<std::size_t>(batch))
    n += share_of(std::min<std::size_t>(batch, samples - first), ranks, rank).size();
  return n;
}

void agree(const comm& c, const model& m, const dataset& train, const dataset* test,
           const fit_options& opts) {
  require_same(c, "model and plan (fingerprint)", std::hash<std::string>{}(m.fingerprint()));
  require_same(c, "batch", static_cast<std::uint64_t>(opts.batch));
  require_same(c, "seed", opts.seed);
  require_same(c, "epochs", static_cast<std::uint64_t>(opts.epochs));
  require_same(c, "max_steps", static_cast<std::uint64_t>(opts.max_steps));
  require_same(c, "checkpoint_every", static_cast<std::uint64_t>(opts.checkpoint_every));
  require_same(c, "resume", opts.resume.empty() ? 0 : 1);
  require_same(c, "training data", data_hash(train));
  require_same(c, "test data", test ? data_hash(*test) : 0);
}

run_position summed(const comm& c, run_position p) {
  if (!c.distributed()) return p;
  double v[3] = {p.loss_sum, double(p.correct), double(p.seen)};  // exact below 2^53
  c.sum(std::span(v), "the epoch's loss and accuracy");
  p.loss_sum = v[0], p.correct = long(v[1]), p.seen = std::size_t(v[2]);
  return p;
}

void broadcast_position(const comm& c, run_position& p, int root) {
  std::uint64_t v[6] = {
      std::uint64_t(p.epoch),   std::uint64_t(p.batch), std::bit_cast<std::uint64_t>(p.loss_sum),
      std::uint64_t(p.correct), std::uint64_t(p.seen),  std::bit_cast<std::uint64_t>(p.seconds)};
  c.broadcast(std::span(v), root, "the checkpoint's position");
  p = {int(v[0]),  long(v[1]),        std::bit_cast<double>(v[2]),
       long(v[3]), std::size_t(v[4]), std::bit_cast<double>(v[5])};
}

}  // namespace kiln::rt::detail
