#include "kiln/codegen/layers/onnx.hpp"

namespace kiln::codegen {

std::string onnx_io::node(const std::string& op, const std::vector<std::string>& inputs,
                          const std::vector<attr>& attributes) const {
  return g->node(op, inputs, attributes, name);
}

std::string onnx_io::initializer(const dsl::param& spec, const float* at) const {
  const auto dims = dims_of(spec.dims);
  return g->weight(name + "." + std::string(spec.name.view()), dims,
                   {at, std::size_t(spec.dims.size())});
}

void no_onnx_form(const onnx_io& c, std::string_view kind) {
  throw config_error("export", "layer '" + c.name + "' (" + std::string(kind) +
                                   ") has no ONNX form; nothing was written");
}

}  // namespace kiln::codegen
