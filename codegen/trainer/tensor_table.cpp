// The tensor table's model-independent part (tensor_table.hpp): compiled once, not in every
// trainer's translation unit.
#include "kiln/codegen/trainer/tensor_table.hpp"

namespace kiln::codegen {

void table_base::describe(std::span<const layer_entry> layers, std::span<const tensor_row> params,
                          std::span<const tensor_row> buffers, const table_arenas& a) {
  names_.assign(layers.size(), {});
  out_shape_.assign(layers.size(), {});
  info_.summary.clear();
  tensors_.clear();
  for (std::size_t i = 0; i < layers.size(); ++i) {
    // The DSL's .name when given, else the layer's position as PyTorch's nn.Sequential numbers
    // it (the input layer is not a module: the first layer after it is "0").
    const layer_entry& l = layers[i];
    names_[i] = i == 0            ? "input"
                : !l.name.empty() ? std::string(l.name.view())
                                  : std::to_string(i - 1);
    out_shape_[i] = l.out;
    info_.summary += std::to_string(i) + " " + std::string(l.kind) + " '" + names_[i] + "'" + ": " +
                     to_string(l.in) + " -> " + to_string(l.out) + "\n";
  }
  // Named by the DSL (or position), and as an nn.Sequential of the same layers would name it.
  auto add = [&](const tensor_row& t, const std::string& suffix, float* base, rt::tensor_role role,
                 bool scalar = false) {
    const std::string position = std::to_string(t.layer - 1) + "." + suffix;
    std::vector<int> dims;
    std::span<float> data{base, 1};
    if (!scalar) {
      dims.assign(t.spec.dims.d, t.spec.dims.d + t.spec.dims.rank);
      data = {base + t.offset, std::size_t(t.spec.dims.size())};
    }
    tensors_.push_back({names_[t.layer] + "." + suffix, std::move(dims), data, role, position});
  };
  for (const tensor_row& t : params)
    add(t, std::string(t.spec.name.view()), a.params, rt::tensor_role::param);
  for (std::size_t k = 0; k < a.states.size(); ++k)
    for (const tensor_row& t : params)
      add(t, std::string(t.spec.name.view()) + "." + std::string(a.state_names[k]), a.states[k],
          rt::tensor_role::state);
  // Each tensor's step count, a float32 scalar like PyTorch's state["step"].
  for (std::size_t i = 0; i < params.size(); ++i)
    add(params[i], std::string(params[i].spec.name.view()) + ".step", a.steps + i,
        rt::tensor_role::state, true);
  // The moving average is state too: checkpoints keep it, weight imports leave it.
  if (a.average)
    for (const tensor_row& t : params)
      add(t, std::string(t.spec.name.view()) + ".ema", a.average, rt::tensor_role::state);
  for (const tensor_row& t : buffers)
    add(t, std::string(t.spec.name.view()), a.buffers, rt::tensor_role::buffer);
}

std::span<float> table_base::tensor(std::string_view name) const {
  for (auto& t : tensors_)
    if (t.name == name) return t.data;
  throw config_error("tensor", "no tensor named '" + std::string(name) + "'");
}

std::size_t table_base::layer_index(std::string_view name) const {
  const std::size_t L = names_.size();
  for (std::size_t i = 1; i + 1 < L; ++i)
    if (names_[i] == name || std::to_string(i - 1) == name) return i;
  std::string known;
  for (std::size_t i = 1; i + 1 < L; ++i) known += (known.empty() ? "" : ", ") + names_[i];
  throw config_error("layer",
                     "no layer named '" + std::string(name) + "' (the layers: " + known + ")");
}

std::string to_string(const dsl::shape& s) {
  std::string r = "{";
  for (int i = 0; i < s.rank; ++i) r += (i ? ", " : "") + std::to_string(s.d[i]);
  return r + "}";
}

}  // namespace kiln::codegen
