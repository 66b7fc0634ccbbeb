#include "kiln/runtime/data/subset.hpp"

#include <algorithm>
#include <numeric>
#include <string>

#include "kiln/core/error.hpp"
#include "kiln/core/rng.hpp"

namespace kiln::rt {
namespace {

dataset with_rows(const dataset& d, const std::vector<std::size_t>& rows, std::string name) {
  dataset out;
  out.name = std::move(name);
  out.sample_shape = d.sample_shape;
  out.classes = d.classes;
  const std::size_t s = d.sample_size();
  out.x.reserve(rows.size() * s);
  for (std::size_t r : rows) {
    out.x.insert(out.x.end(), d.x.begin() + r * s, d.x.begin() + (r + 1) * s);
    out.labels.push_back(d.labels[r]);
  }
  return out;
}

void require_labels(const dataset& d) {
  if (d.labels.size() != d.size() || d.classes < 1)
    throw config_error(d.name.empty() ? "dataset" : d.name, "is not a classification dataset");
}

}  // namespace

dataset select_classes(const dataset& d, const std::vector<int>& classes) {
  require_labels(d);
  std::vector<int> to(static_cast<std::size_t>(d.classes), -1);
  for (std::size_t k = 0; k < classes.size(); ++k) {
    const int c = classes[k];
    if (c < 0 || c >= d.classes || to[static_cast<std::size_t>(c)] >= 0)
      throw config_error("classes", "class " + std::to_string(c) + " is outside [0, " +
                                        std::to_string(d.classes) + ") or listed twice");
    to[static_cast<std::size_t>(c)] = static_cast<int>(k);
  }
  std::vector<std::size_t> rows;
  for (std::size_t i = 0; i < d.labels.size(); ++i)
    if (to[static_cast<std::size_t>(d.labels[i])] >= 0) rows.push_back(i);
  dataset out = with_rows(d, rows, d.name + " (" + std::to_string(classes.size()) + " classes)");
  for (auto& l : out.labels) l = to[static_cast<std::size_t>(l)];
  out.classes = static_cast<int>(classes.size());
  return out;
}

dataset take_per_class(const dataset& d, int per_class, std::uint64_t seed) {
  require_labels(d);
  if (per_class < 1)
    throw config_error("per_class", "must be at least 1, got " + std::to_string(per_class));
  std::vector<std::size_t> order(d.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  rng r(seed, streams::shuffle);
  shuffle(std::span<std::size_t>(order), r);
  std::vector<int> taken(static_cast<std::size_t>(d.classes), 0);
  std::vector<std::size_t> rows;
  for (std::size_t i : order)
    if (taken[static_cast<std::size_t>(d.labels[i])]++ < per_class) rows.push_back(i);
  std::sort(rows.begin(), rows.end());
  return with_rows(d, rows, d.name + " (" + std::to_string(per_class) + " per class)");
}

dataset subset(const dataset& data, std::size_t count, std::uint64_t seed) {
  const std::size_t n = data.size();
  if (count > n)
    throw config_error("subset", "asks for " + std::to_string(count) + " samples of " +
                                     (data.name.empty() ? "a dataset" : data.name) +
                                     ", which has " + std::to_string(n));
  // The first `count` positions of a Fisher-Yates shuffle, then sorted back into data order.
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), std::size_t(0));
  rng r(seed, streams::subset);
  for (std::size_t i = 0; i < count; ++i) std::swap(order[i], order[i + r.below(n - i)]);
  order.resize(count);
  std::sort(order.begin(), order.end());

  dataset out;
  out.name =
      data.name.empty() ? "subset" : data.name + " (subset of " + std::to_string(count) + ")";
  out.sample_shape = data.sample_shape;
  out.classes = data.classes;
  out.target_size = data.target_size;
  const std::size_t sample = data.sample_size();
  const auto targets = static_cast<std::size_t>(data.target_size);
  out.x.reserve(count * sample);
  for (const std::size_t i : order) {
    out.x.insert(out.x.end(), data.x.begin() + std::ptrdiff_t(i * sample),
                 data.x.begin() + std::ptrdiff_t((i + 1) * sample));
    if (!data.labels.empty()) out.labels.push_back(data.labels[i]);
    if (!data.targets.empty())
      out.targets.insert(out.targets.end(), data.targets.begin() + std::ptrdiff_t(i * targets),
                         data.targets.begin() + std::ptrdiff_t((i + 1) * targets));
  }
  return out;
}

}  // namespace kiln::rt
