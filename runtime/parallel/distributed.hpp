// What data-parallel training and distributed ensembles do with a communicator, on any
// rt::model: agreeing on the run, checking that every rank holds the same weights, sharing
// tensors from one rank, placing ensemble members on ranks.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "kiln/runtime/data/dataset.hpp"
#include "kiln/runtime/model.hpp"
#include "kiln/core/comm.hpp"

namespace kiln::rt {

// A 64-bit hash of every tensor of the model (parameters, optimizer state, buffers), bit by bit.
std::uint64_t tensor_hash(const model& m);

// A 64-bit hash of a dataset's samples, labels and targets: ranks check they train on the same.
std::uint64_t data_hash(const dataset& d);

// Every rank must pass the same `value` for `what` (a setting, a data size, a fingerprint);
// otherwise every rank throws kiln::config_error naming `what` and the ranks that differ from
// rank 0. Collective.
void require_same(const comm& c, const std::string& what, std::uint64_t value);

// Throws kiln::error on every rank when the ranks' tensors are not bitwise the same ("weights
// differ between ranks after <when>: rank 1 differs from rank 0"). Collective.
void require_same_weights(const comm& c, const model& m, const std::string& when);

// Rank `root`'s tensors (every one: parameters, optimizer state, buffers) and resume state
// into the model on every rank. Collective.
void broadcast_model(const comm& c, model& m, int root);

// Ensemble members over ranks: `groups` (min(members, ranks)) groups of ranks; rank r is in group
// r % groups, and group g trains the members g, g + groups, g + 2·groups, ... in turn or side by
// side, data-parallel across the group when it has more than one rank.
struct placement {
  int groups = 1;
  int group = 0;             // this rank's
  std::vector<int> members;  // this group's members
};
placement place_members(int members, int ranks, int rank);

}  // namespace kiln::rt
