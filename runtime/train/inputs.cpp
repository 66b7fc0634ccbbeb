#include "kiln/runtime/train/inputs.hpp"

#include <algorithm>
#include <cmath>

#include "kiln/core/error.hpp"

namespace kiln::rt::detail {
namespace {

std::size_t product(const std::vector<int>& shape) {
  std::size_t p = 1;
  for (int d : shape) p *= static_cast<std::size_t>(std::max(d, 0));
  return p;
}

}  // namespace

std::string shape_text(const std::vector<int>& shape) {
  std::string s;
  for (int d : shape) {
    if (!s.empty()) s += 'x';  // (GCC 12 warns falsely of -Wrestrict on "x" + to_string)
    s += std::to_string(d);
  }
  return s.empty() ? "(none)" : s;
}

batch view(const dataset& data, std::size_t first, std::size_t count) {
  return {
      static_cast<int>(count), data.x.data() + first * data.sample_size(),
      data.labels.empty() ? nullptr : data.labels.data() + first,
      data.targets.empty() ? nullptr : data.targets.data() + first * std::size_t(data.target_size)};
}

void require_data(const model& m, const dataset& data, const std::string& role) {
  const model_info& info = m.info();
  const std::string name = data.name.empty() ? role : role + " (" + data.name + ")";
  if (data.size() == 0) throw config_error(name, "has no samples");
  if (data.sample_size() != product(info.input))
    throw config_error(
        name, "sample shape " + shape_text(data.sample_shape) + " (" +
                  std::to_string(data.sample_size()) + " values) does not match the model input " +
                  shape_text(info.input) + " (" + std::to_string(product(info.input)) + " values)");
  // Same count, other layout (3x32x32 against 1x96x32) would train on scrambled pixels; a flat
  // side (a CSV row, a model taking {784}) has no layout to disagree with.
  if (data.sample_shape.size() > 1 && info.input.size() > 1 && data.sample_shape != info.input)
    throw config_error(name, "sample shape " + shape_text(data.sample_shape) +
                                 " does not match the model input " + shape_text(info.input));
  if (data.x.size() != data.size() * data.sample_size())
    throw config_error(name, std::to_string(data.x.size()) + " values are not a whole number of " +
                                 std::to_string(data.sample_size()) + "-value samples");
  // A NaN in the data would surface steps later as a non-finite loss: name it now.
  const auto finite = [&](const std::vector<float>& v, std::size_t per_sample, const char* what) {
    const auto bad = std::find_if(v.begin(), v.end(), [](float x) { return !std::isfinite(x); });
    if (bad == v.end()) return;
    const auto at = static_cast<std::size_t>(bad - v.begin());
    throw config_error(name, std::string(what) + " " + std::to_string(at % per_sample) +
                                 " of sample " + std::to_string(at / per_sample) + " is " +
                                 (std::isnan(*bad) ? "NaN" : "infinite"));
  };
  finite(data.x, data.sample_size(), "value");
  if (info.kind == task::classify) {
    if (data.labels.size() != data.size())
      throw config_error(name, std::to_string(data.labels.size()) + " labels for " +
                                   std::to_string(data.size()) + " samples");
    for (std::size_t i = 0; i < data.labels.size(); ++i)
      if (data.labels[i] < 0 || data.labels[i] >= info.outputs)
        throw config_error(name, "label " + std::to_string(data.labels[i]) + " of sample " +
                                     std::to_string(i) + " is outside [0, " +
                                     std::to_string(info.outputs) + ") (the model's outputs)");
  } else {
    if (data.target_size != info.outputs)
      throw config_error(name, "targets have " + std::to_string(data.target_size) +
                                   " values per sample, the model outputs " +
                                   std::to_string(info.outputs));
    if (data.targets.size() != data.size() * static_cast<std::size_t>(info.outputs))
      throw config_error(name, std::to_string(data.targets.size()) + " target values for " +
                                   std::to_string(data.size()) + " samples");
    finite(data.targets, static_cast<std::size_t>(info.outputs), "target");
  }
}

void require_batch(const model& m, int batch) {
  if (batch < 1) throw config_error("batch", "must be at least 1, got " + std::to_string(batch));
  // The model's buffers are sized for its batch; a larger one would overrun them.
  if (const int built = m.info().batch; built > 0 && batch > built)
    throw config_error("batch", std::to_string(batch) +
                                    " is larger than the batch size the model was built for (" +
                                    std::to_string(built) + ")");
}

}  // namespace kiln::rt::detail
