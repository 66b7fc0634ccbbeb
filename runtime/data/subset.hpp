// Parts of a classification dataset: some classes (relabelled 0..k-1), or a few samples per
// class. Transfer-learning experiments are made of these.
#pragma once

#include <cstdint>
#include <vector>

#include "kiln/runtime/data/dataset.hpp"

namespace kiln::rt {

// The samples whose label is in `classes`, relabelled by position: {5, 6, 7, 8, 9} -> 0..4.
dataset select_classes(const dataset& d, const std::vector<int>& classes);

// `per_class` samples of every class (all of a class when it has fewer), drawn at random from
// `seed`, in the dataset's order.
dataset take_per_class(const dataset& d, int per_class, std::uint64_t seed);

}  // namespace kiln::rt
