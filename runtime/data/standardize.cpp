#include "kiln/runtime/data/standardize.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "kiln/runtime/error.hpp"

namespace kiln::rt {

standardization standardization::of(const dataset& train) {
  standardization s;
  s.shape = train.sample_shape;
  const std::size_t n = train.size(), f = train.sample_size();
  if (n == 0 || f == 0) throw config_error("standardize", "the training set has no samples");
  std::vector<double> sum(f, 0.0), squares(f, 0.0);
  for (std::size_t i = 0; i < n; ++i) {
    const float* x = train.x.data() + i * f;
    for (std::size_t k = 0; k < f; ++k) sum[k] += x[k];
  }
  s.mean.resize(f);
  for (std::size_t k = 0; k < f; ++k) sum[k] /= double(n), s.mean[k] = float(sum[k]);
  // Two passes: the squares of the deviations from the mean, exact for a constant feature.
  for (std::size_t i = 0; i < n; ++i) {
    const float* x = train.x.data() + i * f;
    for (std::size_t k = 0; k < f; ++k) {
      const double d = double(x[k]) - sum[k];
      squares[k] += d * d;
    }
  }
  s.stddev.resize(f);
  for (std::size_t k = 0; k < f; ++k) {
    const auto sd = float(std::sqrt(squares[k] / double(n)));
    s.stddev[k] = sd > 0 && std::isfinite(sd) ? sd : 1.0f;  // a constant feature is only centred
  }
  return s;
}

void standardization::apply(std::span<float> x) const {
  const std::size_t f = mean.size();
  if (f == 0) return;
  if (x.size() % f != 0)
    throw config_error("standardize", std::to_string(x.size()) +
                                          " values are not whole samples of the statistics' " +
                                          std::to_string(f) + " features");
  for (std::size_t at = 0; at < x.size(); at += f)
    for (std::size_t k = 0; k < f; ++k) x[at + k] = (x[at + k] - mean[k]) / stddev[k];
}

void standardization::apply(dataset& d) const {
  if (empty()) return;
  if (d.sample_size() != mean.size())
    throw config_error("standardize", (d.name.empty() ? "the data" : d.name) + " has " +
                                          std::to_string(d.sample_size()) +
                                          " features per sample, the statistics " +
                                          std::to_string(mean.size()));
  apply(std::span<float>(d.x));
}

std::vector<tensor_ref> standardization::tensors() const {
  if (empty()) return {};
  std::vector<std::size_t> dims;
  for (int d : shape) dims.push_back(std::size_t(d));
  return {{mean_name, dims, mean}, {std_name, dims, stddev}};
}

standardization standardization::take(tensor_file& file) {
  standardization s;
  const auto fail = [&](const std::string& problem) { throw file_error(file.path, problem); };
  const named_tensor* m = file.find(mean_name);
  const named_tensor* d = file.find(std_name);
  if (!m && !d) return s;
  if (!m || !d)
    fail(std::string("tensor '") + (m ? std_name : mean_name) + "' is missing beside '" +
         (m ? mean_name : std_name) + "'");
  if (m->shape != d->shape)
    fail(std::string("tensors '") + mean_name + "' and '" + std_name + "' differ in shape");
  for (std::size_t k : m->shape) s.shape.push_back(int(k));
  s.mean = m->values;
  s.stddev = d->values;
  for (std::size_t k = 0; k < s.mean.size(); ++k)
    if (!std::isfinite(s.mean[k]) || !std::isfinite(s.stddev[k]) || !(s.stddev[k] > 0))
      fail(std::string("tensor '") + std_name + "' or '" + mean_name + "': feature " +
           std::to_string(k) + " is not finite or its std is not positive");
  std::erase_if(file.tensors, [](const named_tensor& t) {
    return t.name == standardization::mean_name || t.name == standardization::std_name;
  });
  return s;
}

}  // namespace kiln::rt
