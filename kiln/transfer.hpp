// Transfer learning with a generated trainer: feature extraction (run a frozen body once over
// a dataset, keep its outputs as a new dataset for a small head model) and weight transfer
// between two trainers whose layers share names (a replaced head keeps its fresh init).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "kiln/runtime/data/dataset.hpp"
#include "kiln/runtime/io/import.hpp"

namespace kiln {

// The output of `layer` for every sample of `data`, in evaluation mode, as a dataset with the
// same labels (or targets). Trainer is any kiln::trainer<Model, Plan>.
template <class Trainer>
rt::dataset extract_features(Trainer& body, const rt::dataset& data, std::string_view layer) {
  rt::dataset out;
  out.name = data.name + " -> " + std::string(layer);
  out.sample_shape = body.output_shape(layer);
  out.labels = data.labels;
  out.classes = data.classes;
  out.targets = data.targets;
  out.target_size = data.target_size;
  std::size_t width = 1;
  for (int d : out.sample_shape) width *= static_cast<std::size_t>(d);
  const std::size_t n = data.size(), sample = data.sample_size();
  out.x.resize(n * width);
  for (std::size_t first = 0; first < n; first += static_cast<std::size_t>(body.batch())) {
    const int count = static_cast<int>(std::min<std::size_t>(body.batch(), n - first));
    body.features({count, data.x.data() + first * sample, nullptr, nullptr}, layer,
                  out.x.data() + first * width);
  }
  return out;
}

// Copies every parameter and buffer of `from` into `to` by name, except the layers in `keep`
// (a replaced head: "head"), which keep their values. Everything else must match exactly.
inline rt::import_report transfer_weights(const rt::model& from, rt::model& to,
                                          std::vector<std::string> keep = {}) {
  rt::import_options o;
  o.names = rt::naming::dsl;
  o.keep = std::move(keep);
  return rt::load_weights(to, rt::snapshot(from), o);
}

}  // namespace kiln
