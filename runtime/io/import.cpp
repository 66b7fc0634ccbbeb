#include "kiln/runtime/io/import.hpp"

#include <algorithm>
#include <cstring>
#include <string>

#include "kiln/runtime/error.hpp"
#include "kiln/runtime/io/bytes.hpp"
#include "kiln/runtime/io/safetensors.hpp"

namespace kiln::rt {
namespace {

bool kept(const std::string& name, const std::vector<std::string>& keep) {
  for (const std::string& k : keep) {
    if (name == k) return true;
    const std::string prefix = k.ends_with('.') ? k : k + ".";
    if (name.starts_with(prefix)) return true;
  }
  return false;
}

// BatchNorm's num_batches_tracked: optional on both sides. It changes no output (kiln's
// batch_norm uses a fixed momentum), PyTorch state dicts have it, ONNX exports never do.
bool is_batch_counter(const std::string& name) { return name.ends_with(".num_batches_tracked"); }

bool loadable(const tensor& t, const import_options& o) {
  return t.role != tensor_role::state || o.optimizer_state;
}

// Index of the model tensor a file tensor goes to, or -1.
int target_of(std::span<const tensor> ts, const std::string& file_name, const import_options& o) {
  const auto renamed = o.rename.find(file_name);
  const std::string& wanted = renamed != o.rename.end() ? renamed->second : file_name;
  if (renamed != o.rename.end() || o.names != naming::sequential)
    for (std::size_t i = 0; i < ts.size(); ++i)
      if (ts[i].name == wanted) return static_cast<int>(i);
  if (renamed == o.rename.end() && o.names != naming::dsl)
    for (std::size_t i = 0; i < ts.size(); ++i)
      if (!ts[i].sequential_name.empty() && ts[i].sequential_name == wanted)
        return static_cast<int>(i);
  return -1;
}

std::string also_known_as(const tensor& t) {
  return t.sequential_name.empty() || t.sequential_name == t.name
             ? std::string()
             : " (nn.Sequential: '" + t.sequential_name + "')";
}

}  // namespace

import_report load_weights(model& m, const tensor_file& file, const import_options& o) {
  const auto fail = [&](const std::string& problem) { throw file_error(file.path, problem); };
  const std::span<const tensor> ts = m.tensors();
  for (const auto& [from, to] : o.rename)
    if (std::none_of(ts.begin(), ts.end(), [&to = to](const tensor& t) { return t.name == to; }))
      throw config_error("rename",
                         "'" + from + "' -> '" + to + "': the model has no tensor '" + to + "'");

  // Plan every copy first: nothing is written unless all of it is valid.
  std::vector<const named_tensor*> source(ts.size(), nullptr);
  import_report report;
  for (const named_tensor& f : file.tensors) {
    const int i = target_of(ts, f.name, o);
    if (i < 0) {
      if (is_batch_counter(f.name)) continue;  // a model without BatchNorm's counter
      if (o.strict) fail("tensor '" + io::printable(f.name) + "' matches no tensor of the model");
      report.unused.push_back(f.name);
      continue;
    }
    const tensor& t = ts[static_cast<std::size_t>(i)];
    if (!loadable(t, o) || kept(t.name, o.keep)) continue;
    if (source[static_cast<std::size_t>(i)])
      fail("tensors '" + io::printable(source[static_cast<std::size_t>(i)]->name) + "' and '" +
           io::printable(f.name) + "' both map to the model's '" + t.name + "'");
    const bool same_shape = f.shape.size() == t.shape.size() &&
                            std::equal(f.shape.begin(), f.shape.end(), t.shape.begin(),
                                       [](std::size_t a, int b) { return a == std::size_t(b); });
    if (!same_shape)
      fail("tensor '" + io::printable(f.name) + "': shape " + shape_text(f.shape) +
           ", the model's '" + t.name + "' is " + shape_text(std::span<const int>(t.shape)));
    if (f.values.size() != t.size())  // a model whose view disagrees with its own shape
      fail("tensor '" + io::printable(f.name) + "': " + std::to_string(f.values.size()) +
           " values for the " + std::to_string(t.size()) + " of '" + t.name + "'");
    source[static_cast<std::size_t>(i)] = &f;
  }
  for (std::size_t i = 0; i < ts.size(); ++i) {
    if (source[i] || !loadable(ts[i], o) || kept(ts[i].name, o.keep)) continue;
    if (is_batch_counter(ts[i].name)) continue;  // ONNX never stores it; it changes no output
    if (o.strict) fail("tensor '" + ts[i].name + "'" + also_known_as(ts[i]) + " is missing");
    report.missing.push_back(ts[i].name);
  }

  for (std::size_t i = 0; i < ts.size(); ++i) {
    if (!source[i]) continue;
    std::memcpy(ts[i].data.data(), source[i]->values.data(), ts[i].data.size_bytes());
    report.loaded.push_back(ts[i].name);
  }
  return report;
}

import_report load_weights(model& m, const std::filesystem::path& file, const import_options& o) {
  return load_weights(m, read_tensor_file(file), o);
}

tensor_file snapshot(const model& m, bool optimizer_state) {
  tensor_file out;
  out.path = "model";
  out.format = "memory";
  for (const tensor& t : m.tensors()) {
    if (t.role == tensor_role::state && !optimizer_state) continue;
    named_tensor n{t.name, dtype::f32, {}, {t.data.begin(), t.data.end()}};
    for (int d : t.shape) n.shape.push_back(static_cast<std::size_t>(d));
    out.tensors.push_back(std::move(n));
  }
  return out;
}

void save_weights(const model& m, const std::filesystem::path& path, dtype as) {
  std::vector<tensor_ref> refs;
  for (const tensor& t : m.tensors()) {
    if (t.role == tensor_role::state) continue;
    tensor_ref r{t.name, {}, t.data};
    for (int d : t.shape) r.shape.push_back(static_cast<std::size_t>(d));
    refs.push_back(std::move(r));
  }
  write_safetensors(path, refs, {{"format", "pt"}}, as);
}

}  // namespace kiln::rt
