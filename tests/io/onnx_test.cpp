// ONNX initializers: float data in raw_data and in the typed fields, halves and doubles, and
// malformed models rejected with a message naming the file and the initializer.
#define BOOST_TEST_MODULE io_onnx
#include <boost/test/unit_test.hpp>

#include <onnx/onnx_pb.h>

#include <cstring>

#include "../support/runtime.hpp"
#include "kiln/core/error.hpp"
#include "kiln/runtime/io/onnx.hpp"

using namespace kiln;
using kiln::test::expect_error;
using proto = onnx::TensorProto;

namespace {

onnx::ModelProto model_with(const std::function<void(onnx::GraphProto&)>& fill) {
  onnx::ModelProto m;
  m.set_ir_version(8);
  m.set_producer_name("kiln-test");
  m.add_opset_import()->set_version(13);
  fill(*m.mutable_graph());
  return m;
}

std::filesystem::path save(const test::temp_dir& dir, const onnx::ModelProto& m) {
  const auto path = dir / "m.onnx";
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  BOOST_REQUIRE(m.SerializeToOstream(&out));
  return path;
}

proto& add(onnx::GraphProto& g, const std::string& name, int type, std::vector<std::int64_t> dims) {
  proto& t = *g.add_initializer();
  t.set_name(name);
  t.set_data_type(type);
  for (auto d : dims) t.add_dims(d);
  return t;
}

}  // namespace

BOOST_AUTO_TEST_CASE(reads_raw_and_typed_initializers) {
  test::temp_dir dir;
  const auto path = save(dir, model_with([](onnx::GraphProto& g) {
                           const float w[6] = {1, 2, 3, 4, 5, -6};
                           add(g, "fc.weight", proto::FLOAT, {2, 3})
                               .set_raw_data(std::string(reinterpret_cast<const char*>(w), 24));
                           auto& b = add(g, "fc.bias", proto::FLOAT, {2});
                           b.add_float_data(0.5f), b.add_float_data(-0.5f);
                           auto& h = add(g, "h", proto::FLOAT16, {1});
                           h.add_int32_data(0x3c00);  // 1.0
                           auto& d = add(g, "d", proto::DOUBLE, {});
                           d.add_double_data(0.25);
                           auto& i = add(g, "n", proto::INT64, {});
                           i.add_int64_data(42);
                         }));
  const auto f = rt::read_onnx(path);
  BOOST_TEST(f.format == "onnx");
  BOOST_REQUIRE_EQUAL(f.tensors.size(), 5u);
  BOOST_TEST(f.tensors[0].shape == std::vector<std::size_t>({2, 3}),
             boost::test_tools::per_element());
  BOOST_TEST(f.tensors[0].values[5] == -6.0f);
  BOOST_TEST(f.find("fc.bias")->values == std::vector<float>({0.5f, -0.5f}),
             boost::test_tools::per_element());
  BOOST_TEST(f.find("h")->values[0] == 1.0f);
  BOOST_TEST(f.find("d")->values[0] == 0.25f);
  BOOST_TEST(f.find("n")->values[0] == 42.0f);
  BOOST_TEST(f.metadata.at("producer").find("kiln-test") == 0u);
  BOOST_TEST(f.metadata.at("opset") == "13");
}

BOOST_AUTO_TEST_CASE(malformed_models_are_rejected) {
  test::temp_dir dir;
  const auto rejected = [&](const std::function<void(onnx::GraphProto&)>& fill,
                            const std::string& problem) {
    const auto path = save(dir, model_with(fill));
    expect_error<file_error>([&] { rt::read_onnx(path); }, path.string(), problem);
  };
  rejected([](auto& g) { add(g, "w", proto::FLOAT, {2}).add_float_data(1); },
           "initializer 'w': float_data holds 1 values, the shape needs 2");
  rejected([](auto& g) { add(g, "w", proto::FLOAT, {2}).set_raw_data("abc"); },
           "initializer 'w': raw_data holds 3 bytes, the shape needs 8");
  rejected([](auto& g) { add(g, "w", proto::STRING, {1}).add_string_data("x"); },
           "initializer 'w': data type STRING is not supported");
  rejected([](auto& g) { add(g, "w", proto::FLOAT, {-1}); }, "initializer 'w': negative dimension");
  rejected(
      [](auto& g) {
        add(g, "w", proto::FLOAT, {1 << 30, 1 << 30, 1 << 30}).set_raw_data("");
      },
      "overflows");
  rejected(
      [](auto& g) {
        add(g, "w", proto::FLOAT, {1}).add_float_data(1);
        add(g, "w", proto::FLOAT, {1}).add_float_data(1);
      },
      "initializer 'w': the name appears twice");
  rejected(
      [](auto& g) {
        auto& t = add(g, "w", proto::FLOAT, {1});
        t.set_data_location(proto::EXTERNAL);
      },
      "initializer 'w': external data is not supported");

  const auto path = dir / "junk.onnx";
  test::write_file(path, {0xff, 0xff, 0xff, 0xff, 0x0f});
  expect_error<file_error>([&] { rt::read_onnx(path); }, path.string(), "not a valid ONNX model");
  test::write_file(path, {});
  expect_error<file_error>([&] { rt::read_onnx(path); }, path.string(), "the file is empty");
  test::write_file(path, {0x08, 0x07});  // ir_version 7 and nothing else
  expect_error<file_error>([&] { rt::read_onnx(path); }, path.string(), "it has no graph");
  // Truncate a valid model in the middle of an initializer.
  std::string full;
  model_with([](auto& g) {
    add(g, "w", proto::FLOAT, {64}).set_raw_data(std::string(256, 'a'));
  }).SerializeToString(&full);
  test::write_file(path, test::bytes(full.begin(), full.begin() + full.size() / 2));
  expect_error<file_error>([&] { rt::read_onnx(path); }, path.string(), "not a valid ONNX model");
}
