#include "kiln/runtime/io/onnx_export.hpp"

#include <onnx/onnx_pb.h>

#include <map>
#include <string>

#include "kiln/runtime/error.hpp"
#include "kiln/runtime/io/bytes.hpp"

namespace kiln::rt {
namespace {

constexpr std::int64_t opset = 13;
constexpr std::int64_t ir_version = 7;  // what opset 13 came with (ONNX 1.8)

void set_shape(onnx::ValueInfoProto& v, const std::vector<int>& sample, bool batch) {
  auto* type = v.mutable_type()->mutable_tensor_type();
  type->set_elem_type(onnx::TensorProto::FLOAT);
  auto* shape = type->mutable_shape();
  if (batch) shape->add_dim()->set_dim_param("batch");
  for (int d : sample) shape->add_dim()->set_dim_value(d);
}

class proto_graph final : public onnx_graph {
 public:
  explicit proto_graph(onnx::GraphProto& g) : g_(g) {}

  std::string weight(const std::string& name, std::span<const std::int64_t> shape,
                     std::span<const float> values) override {
    onnx::TensorProto* t = g_.add_initializer();
    fill(*t, shape, values);
    t->set_name(unique(name));
    return t->name();
  }
  std::string constant(std::span<const std::int64_t> shape,
                       std::span<const float> values) override {
    onnx::TensorProto t;
    fill(t, shape, values);
    return constant_node(t);
  }
  std::string constant(std::span<const std::int64_t> shape,
                       std::span<const std::int64_t> values) override {
    onnx::TensorProto t;
    t.set_data_type(onnx::TensorProto::INT64);
    for (std::int64_t d : shape) t.add_dims(d);
    t.set_raw_data(values.data(), values.size_bytes());
    return constant_node(t);
  }
  std::string node(const std::string& op, const std::vector<std::string>& inputs,
                   const std::vector<onnx_attribute>& attributes,
                   const std::string& hint) override {
    onnx::NodeProto* n = g_.add_node();
    n->set_op_type(op);
    const std::string out = unique((hint.empty() ? op : hint) + "/" + op);
    n->set_name(out);
    for (const std::string& in : inputs) n->add_input(in);
    n->add_output(out);
    for (const onnx_attribute& a : attributes) {
      onnx::AttributeProto* p = n->add_attribute();
      p->set_name(a.name);
      if (const auto* i = std::get_if<std::int64_t>(&a.value)) {
        p->set_type(onnx::AttributeProto::INT);
        p->set_i(*i);
      } else if (const auto* f = std::get_if<float>(&a.value)) {
        p->set_type(onnx::AttributeProto::FLOAT);
        p->set_f(*f);
      } else {
        p->set_type(onnx::AttributeProto::INTS);
        for (std::int64_t v : std::get<std::vector<std::int64_t>>(a.value)) p->add_ints(v);
      }
    }
    return out;
  }

 private:
  static void fill(onnx::TensorProto& t, std::span<const std::int64_t> shape,
                   std::span<const float> values) {
    t.set_data_type(onnx::TensorProto::FLOAT);
    for (std::int64_t d : shape) t.add_dims(d);
    t.set_raw_data(values.data(), values.size_bytes());  // little-endian, as ONNX wants
  }
  std::string constant_node(onnx::TensorProto& t) {
    onnx::NodeProto* n = g_.add_node();
    n->set_op_type("Constant");
    const std::string out = unique("const");
    n->set_name(out);
    n->add_output(out);
    onnx::AttributeProto* a = n->add_attribute();
    a->set_name("value");
    a->set_type(onnx::AttributeProto::TENSOR);
    *a->mutable_t() = std::move(t);
    return out;
  }
  // Names are unique across initializers, node outputs and the graph's input.
  std::string unique(const std::string& wanted) {
    const int k = used_[wanted]++;
    return k == 0 ? wanted : wanted + "." + std::to_string(k);
  }

  onnx::GraphProto& g_;
  std::map<std::string, int> used_{{"input", 1}, {"logits", 1}};
};

}  // namespace

std::vector<std::uint8_t> serialize_onnx(const model& m, const standardization& stats) {
  const model_info& info = m.info();
  onnx::ModelProto model;
  model.set_ir_version(ir_version);
  model.set_producer_name("kiln");
  model.set_producer_version("0.1");
  auto* op = model.add_opset_import();
  op->set_domain("");
  op->set_version(opset);
  onnx::GraphProto& g = *model.mutable_graph();
  g.set_name("kiln");
  set_shape(*g.add_input(), info.input, true);
  g.mutable_input(0)->set_name("input");
  proto_graph builder(g);

  std::string x = "input";
  if (!stats.empty()) {
    std::vector<std::int64_t> dims(stats.shape.begin(), stats.shape.end());
    const std::string mean = builder.weight(standardization::mean_name, dims, stats.mean);
    const std::string sd = builder.weight(standardization::std_name, dims, stats.stddev);
    x = builder.node("Sub", {x, mean}, {}, "standardize");
    x = builder.node("Div", {x, sd}, {}, "standardize");
  }
  const std::string y = m.to_onnx(builder, x);
  // The result is named `logits`: the node making it renamed, or, when the model computes
  // nothing (the input is the output), an Identity.
  bool renamed = false;
  for (auto& n : *g.mutable_node())
    if (n.output_size() == 1 && n.output(0) == y && y != "input")
      n.set_output(0, "logits"), renamed = true;
  if (!renamed) {
    onnx::NodeProto* n = g.add_node();
    n->set_op_type("Identity");
    n->set_name("logits");
    n->add_input(y);
    n->add_output("logits");
  } else {
    for (auto& n : *g.mutable_node())
      for (auto& in : *n.mutable_input())
        if (in == y) in = "logits";
  }
  set_shape(*g.add_output(), {info.outputs}, true);
  g.mutable_output(0)->set_name("logits");

  std::string bytes;
  if (!model.SerializeToString(&bytes))
    throw config_error("export", "the graph could not be serialized (over 2 GB?)");
  return {bytes.begin(), bytes.end()};
}

void write_onnx(const std::filesystem::path& path, const model& m, const standardization& stats) {
  io::write_file_atomically(path, serialize_onnx(m, stats));
}

}  // namespace kiln::rt
