// What fit does differently with several ranks (data-parallel training): each rank's share of
// an epoch, the settings every rank must agree on, the epoch's running figures summed over the
// ranks, a checkpoint's position sent from one rank to the others, and the model attached to
// the ranks for the duration of a fit.
#pragma once

#include <cstddef>

#include "kiln/core/comm.hpp"
#include "kiln/runtime/data/dataset.hpp"
#include "kiln/runtime/io/checkpoint.hpp"
#include "kiln/runtime/model.hpp"
#include "kiln/runtime/train/fit.hpp"

namespace kiln::rt::detail {

// The samples one rank of `ranks` trains on in an epoch: its part of every batch.
std::size_t shard_samples(std::size_t samples, int batch, int ranks, int rank);
// Everything the ranks must share before they train together (model, options, data).
void agree(const comm& c, const model& m, const dataset& train, const dataset* test,
           const fit_options& opts);
// The running figures of an epoch summed over the ranks (each rank counts its own samples).
run_position summed(const comm& c, run_position p);
// Rank `root`'s position in the run to every rank.
void broadcast_position(const comm& c, run_position& p, int root);

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

}  // namespace kiln::rt::detail
