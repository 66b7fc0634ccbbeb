// Parts of a dataset: some classes (relabelled 0..k-1), a few samples per class (transfer-learning
// experiments are made of these), or a fixed random subset (full-batch training on part of the
// data). The same samples for the same seed on every platform.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "kiln/runtime/data/dataset.hpp"

namespace kiln::rt {

// The samples whose label is in `classes`, relabelled by position: {5, 6, 7, 8, 9} -> 0..4.
dataset select_classes(const dataset& d, const std::vector<int>& classes);

// `per_class` samples of every class (all of a class when it has fewer), drawn at random from
// `seed`, in the dataset's order.
dataset take_per_class(const dataset& d, int per_class, std::uint64_t seed);

// `count` samples drawn without replacement from `seed`, kept in their original order (labels
// or targets with them); classification or regression. count == d.size() returns a copy; more
// is a config_error.
dataset subset(const dataset& d, std::size_t count, std::uint64_t seed = 0);

}  // namespace kiln::rt
