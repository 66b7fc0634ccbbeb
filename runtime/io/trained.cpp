#include "kiln/runtime/io/trained.hpp"

#include <string>
#include <vector>

#include "kiln/runtime/error.hpp"
#include "kiln/runtime/io/safetensors.hpp"

namespace kiln::rt {

void save_trained(const model& m, const standardization& stats, const std::filesystem::path& path,
                  dtype as) {
  std::vector<tensor_ref> refs;
  for (const tensor& t : m.tensors()) {
    if (t.role == tensor_role::state) continue;
    tensor_ref r{t.name, {}, t.data};
    for (int d : t.shape) r.shape.push_back(static_cast<std::size_t>(d));
    refs.push_back(std::move(r));
  }
  for (tensor_ref& r : stats.tensors()) refs.push_back(std::move(r));
  write_safetensors(path, refs, {{"format", "pt"}}, as);
}

standardization load_trained(model& m, tensor_file file, const import_options& options) {
  standardization stats = standardization::take(file);
  if (!stats.empty()) {
    std::size_t size = 1;
    for (int d : m.info().input) size *= std::size_t(d);
    if (stats.mean.size() != size)
      throw file_error(file.path, std::string("tensor '") + standardization::mean_name + "' has " +
                                      std::to_string(stats.mean.size()) +
                                      " features, the model's input " + std::to_string(size));
    stats.shape = m.info().input;
  }
  load_weights(m, file, options);
  return stats;
}

standardization load_trained(model& m, const std::filesystem::path& path,
                             const import_options& options) {
  return load_trained(m, read_tensor_file(path), options);
}

}  // namespace kiln::rt
