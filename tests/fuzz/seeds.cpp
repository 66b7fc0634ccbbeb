// fuzz_seeds DIR: writes valid inputs for every fuzz target into DIR/<reader>/, made by kiln's
// own writers (and the ONNX protobuf classes), so the seeds follow the formats as kiln writes
// them today. The fuzzers start from these and from the malformed corpus in tests/data.
#include <onnx/onnx_pb.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "kiln/runtime/io/checkpoint.hpp"
#include "kiln/runtime/io/npy.hpp"
#include "kiln/runtime/io/npz.hpp"
#include "kiln/runtime/io/safetensors.hpp"
#include "kiln/runtime/io/trained.hpp"
#include "../support/files.hpp"
#include "../support/toy_model.hpp"

namespace fs = std::filesystem;
using namespace kiln;
using kiln::test::bytes;
using kiln::test::gzip;

namespace {

fs::path root;

void put(const std::string& reader, const std::string& name, const bytes& content) {
  fs::create_directories(root / reader);
  std::ofstream out(root / reader / name, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(content.data()), std::streamsize(content.size()));
  if (!out) throw std::runtime_error("cannot write " + (root / reader / name).string());
}

bytes text(const std::string& s) { return {s.begin(), s.end()}; }

bytes file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// IDX with n data bytes (i·7 mod 256).
bytes idx(const std::vector<std::uint32_t>& dims, std::size_t n) {
  bytes data(n);
  for (std::size_t i = 0; i < n; ++i) data[i] = static_cast<std::uint8_t>(i * 7);
  return kiln::test::idx_file(dims, data);
}

const std::vector<float> w = {0.5f, -1, 2, 3.25f, 4, 5, 6, 7, 8, 9, 10, 11};
const std::vector<rt::tensor_ref> tensors = {{"fc.weight", {3, 4}, w},
                                             {"fc.bias", {3}, {w.data(), 3}}};

bytes onnx_model() {
  onnx::ModelProto m;
  m.set_ir_version(8);
  m.set_producer_name("kiln-seeds");
  m.add_opset_import()->set_version(17);
  auto* g = m.mutable_graph();
  g->set_name("g");
  auto* raw = g->add_initializer();  // raw_data, as torch.onnx.export writes
  raw->set_name("fc.weight");
  raw->set_data_type(onnx::TensorProto::FLOAT);
  raw->add_dims(3), raw->add_dims(4);
  raw->set_raw_data(std::string(reinterpret_cast<const char*>(w.data()), 48));
  auto* typed = g->add_initializer();  // the typed fields
  typed->set_name("fc.bias");
  typed->set_data_type(onnx::TensorProto::FLOAT);
  typed->add_dims(3);
  for (int i = 0; i < 3; ++i) typed->add_float_data(w[i]);
  auto* half = g->add_initializer();
  half->set_name("bn.scale");
  half->set_data_type(onnx::TensorProto::FLOAT16);
  half->add_dims(2);
  half->add_int32_data(0x3c00), half->add_int32_data(0xc000);
  auto* count = g->add_initializer();
  count->set_name("bn.num_batches_tracked");
  count->set_data_type(onnx::TensorProto::INT64);
  count->add_int64_data(938);
  const std::string s = m.SerializeAsString();
  return {s.begin(), s.end()};
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: fuzz_seeds DIR\n");
    return 2;
  }
  root = argv[1];
  const bytes images = idx({3, 5, 4}, 60), labels = idx({3}, 3);
  put("idx", "images", images);
  put("idx", "labels", labels);
  put("idx", "images.gz", gzip(images));
  put("idx", "two-members.gz", [&] {
    bytes a = gzip(bytes(images.begin(), images.begin() + 20));
    const bytes b = gzip(bytes(images.begin() + 20, images.end()));
    a.insert(a.end(), b.begin(), b.end());
    return a;
  }());

  bytes cifar;
  for (int r = 0; r < 2; ++r) {
    cifar.push_back(static_cast<std::uint8_t>(3 + 4 * r));
    for (int i = 0; i < 3072; ++i) cifar.push_back(static_cast<std::uint8_t>(i * (r + 1)));
  }
  put("cifar10", "batch.bin", cifar);

  put("csv", "header.csv", text("label,x,y\n1, 0.5,2\n0,-1e3,3\r\n\n2,4,5\n"));
  put("csv", "plain.csv", text("0,1.5,2.25,3\n1,4,5,6e-2\n"));

  put("npy", "f4.npy", rt::serialize_npy(std::vector<std::size_t>{3, 4}, w));
  put("npy", "scalar.npy", rt::serialize_npy(std::vector<std::size_t>{}, {w.data(), 1}));
  // Version 2.0, Fortran order, bytes: the other branches of the .npy reader.
  const std::string header = "{'descr': '|u1', 'fortran_order': True, 'shape': (2, 3), }\n";
  bytes v2 = text(std::string("\x93NUMPY\x02\x00", 8));
  for (int k = 0; k < 4; ++k) v2.push_back(static_cast<std::uint8_t>(header.size() >> (8 * k)));
  const bytes body = text(header + "abcdef");
  v2.insert(v2.end(), body.begin(), body.end());
  put("npy", "fortran-u1-v2.npy", v2);

  const fs::path scratch = root / "scratch";
  fs::create_directories(scratch);
  rt::write_npz(scratch / "stored.npz", tensors, false);
  rt::write_npz(scratch / "deflated.npz", tensors, true);
  put("npz", "stored.npz", file(scratch / "stored.npz"));
  put("npz", "deflated.npz", file(scratch / "deflated.npz"));

  put("safetensors", "f32.safetensors", rt::serialize_safetensors(tensors, {{"note", "seed"}}));
  put("safetensors", "f16.safetensors", rt::serialize_safetensors(tensors, {}, rt::dtype::f16));
  put("safetensors", "bf16.safetensors", rt::serialize_safetensors(tensors, {}, rt::dtype::bf16));

  fuzz::toy_model m;
  rt::save_checkpoint(scratch / "c.safetensors", m, {{1, 2, 0x1.8p1, 5, 16, 0.125}, 3, 8});
  put("checkpoint", "checkpoint.safetensors", file(scratch / "c.safetensors"));
  fs::remove_all(scratch);

  put("onnx", "model.onnx", onnx_model());

  // The data-loading readers (runtime/data/load.hpp) and gunzip, for the toy model (4 inputs,
  // 3 classes).
  const bytes csv_data = text("a,b,c,d,label\n0.5,1,2,3,0\n4,5,6,7e-1,2\n");
  put("csv_dataset", "header.csv", csv_data);
  put("csv_dataset", "data.csv.gz", gzip(csv_data));
  put("gunzip", "data.gz", gzip(csv_data));
  const std::vector<float> x{0, 1, 2, 3, 4, 5, 6, 7};
  const std::vector<float> y{0, 2};
  const std::vector<rt::tensor_ref> arrays{{"x", {2, 4}, x}, {"y", {2}, y}};
  fs::create_directories(scratch);
  rt::write_npz(scratch / "d.npz", arrays, true);
  put("npz_dataset", "d.npz", file(scratch / "d.npz"));
  rt::save_trained(m, {}, scratch / "w.safetensors");
  put("trained", "w.safetensors", file(scratch / "w.safetensors"));
  fs::remove_all(scratch);
  return 0;
}
