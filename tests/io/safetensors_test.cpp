// safetensors: round trips (F32 exact, F16/BF16 rounding), every dtype kiln imports, metadata,
// atomic replacement, and every kind of malformed file rejected with a message naming it.
#define BOOST_TEST_MODULE io_safetensors
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <cstring>

#include "../support/runtime.hpp"
#include "kiln/core/error.hpp"
#include "kiln/runtime/io/bytes.hpp"
#include "kiln/runtime/io/safetensors.hpp"

using namespace kiln;
using kiln::test::bytes;
using kiln::test::expect_error;

namespace {

// A safetensors file from a header text and data bytes, as a hostile writer could make it.
bytes file_of(const std::string& header, const bytes& data) {
  bytes out(8);
  const std::uint64_t n = header.size();
  std::memcpy(out.data(), &n, 8);
  out.insert(out.end(), header.begin(), header.end());
  out.insert(out.end(), data.begin(), data.end());
  return out;
}

template <class T>
bytes raw(std::initializer_list<T> values) {
  bytes out(values.size() * sizeof(T));
  std::memcpy(out.data(), std::data(values), out.size());
  return out;
}

void expect_rejected(const bytes& content, const std::string& problem) {
  test::temp_dir dir;
  const auto path = test::write_file(dir / "bad.safetensors", content);
  expect_error<file_error>([&] { rt::read_safetensors(path); }, path.string(), problem);
}

}  // namespace

BOOST_AUTO_TEST_CASE(round_trip_is_bitwise_and_keeps_order_and_metadata) {
  test::temp_dir dir;
  const std::vector<float> w = {1.5f, -0.0f, 3e-38f, 1e-45f, INFINITY, -2.25f};
  const std::vector<float> b = {0.1f, 0.2f};
  const float s = 7;
  const std::vector<rt::tensor_ref> tensors = {
      {"fc1.weight", {2, 3}, w}, {"fc1.bias", {2}, b}, {"step", {}, {&s, 1}}};
  const auto path = dir / "w.safetensors";
  rt::write_safetensors(path, tensors, {{"kiln", "1"}, {"note", "a b"}});
  const auto f = rt::read_safetensors(path);
  BOOST_TEST(f.format == "safetensors");
  BOOST_REQUIRE_EQUAL(f.tensors.size(), 3u);
  BOOST_TEST(f.tensors[0].name == "fc1.weight");
  BOOST_TEST(f.tensors[0].shape == std::vector<std::size_t>({2, 3}),
             boost::test_tools::per_element());
  BOOST_TEST(std::memcmp(f.tensors[0].values.data(), w.data(), w.size() * 4) == 0);
  BOOST_TEST(f.tensors[1].values == b, boost::test_tools::per_element());
  BOOST_TEST(f.tensors[2].shape.empty());
  BOOST_TEST(f.tensors[2].values.at(0) == 7.0f);
  BOOST_TEST(f.metadata.at("note") == "a b");
  // The header is padded so that the data starts 8-byte aligned, as the reference writer does.
  const auto content = rt::io::read_file(path);
  BOOST_TEST(rt::io::load_le<std::uint64_t>(content.data()) % 8 == 0);
}

BOOST_AUTO_TEST_CASE(half_precision_writes_round_to_nearest_even) {
  const std::vector<float> v = {1.0f,     1.0f + 0x1.0p-11f, 1.0f + 0x1.8p-11f,
                                65504.0f, 70000.0f,          0x1.0p-24f,
                                -0.5f,    0x1.0p-26f};
  const std::vector<rt::tensor_ref> t = {{"v", {v.size()}, v}};
  const auto half = rt::parse_safetensors(rt::serialize_safetensors(t, {}, rt::dtype::f16), "h");
  BOOST_TEST((half.tensors[0].stored == rt::dtype::f16));
  const std::vector<float> expect_half = {
      1.0f, 1.0f, 1.0f + 0x1.0p-10f, 65504.0f, INFINITY, 0x1.0p-24f, -0.5f, 0.0f};
  BOOST_TEST(half.tensors[0].values == expect_half, boost::test_tools::per_element());
  const auto bf = rt::parse_safetensors(rt::serialize_safetensors(t, {}, rt::dtype::bf16), "b");
  BOOST_TEST(bf.tensors[0].values[0] == 1.0f);
  BOOST_TEST(bf.tensors[0].values[3] == 65536.0f);
  BOOST_TEST(bf.tensors[0].values[6] == -0.5f);
}

BOOST_AUTO_TEST_CASE(reads_every_imported_dtype) {
  const std::uint16_t half_one_and_half = 0x3e00, bf16_minus_two = 0xc000;
  const std::string header = R"({"a":{"dtype":"F64","shape":[2],"data_offsets":[0,16]},)"
                             R"("b":{"dtype":"F16","shape":[1],"data_offsets":[16,18]},)"
                             R"("c":{"dtype":"BF16","shape":[1],"data_offsets":[18,20]},)"
                             R"("d":{"dtype":"I64","shape":[],"data_offsets":[20,28]},)"
                             R"("e":{"dtype":"F32","shape":[0,3],"data_offsets":[28,28]},)"
                             R"("__metadata__":{"format":"pt"}})";
  bytes data = raw<double>({0.1, -3.0});
  for (std::uint16_t h : {half_one_and_half, bf16_minus_two})
    data.insert(data.end(), {std::uint8_t(h & 0xff), std::uint8_t(h >> 8)});
  const bytes count = raw<std::int64_t>({12345});
  data.insert(data.end(), count.begin(), count.end());
  const auto f = rt::parse_safetensors(file_of(header, data), "x.safetensors");
  BOOST_TEST(f.find("a")->values[0] == 0.1f);
  BOOST_TEST((f.find("a")->stored == rt::dtype::f64));
  BOOST_TEST(f.find("b")->values[0] == 1.5f);
  BOOST_TEST(f.find("c")->values[0] == -2.0f);
  BOOST_TEST(f.find("d")->values[0] == 12345.0f);
  BOOST_TEST(f.find("e")->values.empty());
  BOOST_TEST(f.metadata.at("format") == "pt");
}

BOOST_AUTO_TEST_CASE(malformed_files_are_rejected_with_the_problem) {
  const bytes four = raw<float>({1});
  expect_rejected({1, 2, 3},
                  "truncated: the header length needs 8 bytes at byte 0, the file has 3");
  expect_rejected(bytes(8, 255), "exceeds the 100 MB limit");
  {
    bytes b = file_of("{}", {});
    b[0] = 200;  // claims 200 header bytes, has 2
    expect_rejected(b, "truncated: the header needs 200 bytes");
  }
  expect_rejected(file_of("{not json", {}), "malformed JSON header");
  expect_rejected(file_of("[1,2]", {}), "not a JSON object");
  expect_rejected(file_of(R"({"x":{"dtype":"C64","shape":[1],"data_offsets":[0,4]}})", four),
                  "tensor 'x': dtype C64 is not supported");
  expect_rejected(file_of(R"({"x":{"shape":[1],"data_offsets":[0,4]}})", four),
                  "tensor 'x': no dtype");
  expect_rejected(file_of(R"({"x":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}})", four),
                  "tensor 'x': a dimension is not a non-negative integer");
  expect_rejected(file_of(R"({"x":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}})", four),
                  "tensor 'x': data_offsets [0, 4] hold 4 bytes, shape 2 of F32 needs 8");
  expect_rejected(
      file_of(R"({"x":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,4]}})",
              four),
      "overflows");
  expect_rejected(file_of(R"({"x":{"dtype":"F32","shape":[1],"data_offsets":[0]}})", four),
                  "data_offsets is not a pair");
  expect_rejected(file_of(R"({"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", four),
                  "truncated: the tensors' data needs 8 bytes at byte 62, the file has 66");
  expect_rejected(
      file_of(R"({"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})", raw<float>({1, 2})),
      "trailing data: 4 bytes after the last tensor");
  expect_rejected(file_of(R"({"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                          R"("y":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})",
                          raw<float>({1, 2})),
                  "overlapping the tensor before it");
  expect_rejected(
      file_of(R"({"x":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", raw<float>({1, 2})),
      "tensor 'x': data_offsets start at 4, leaving a gap");
  expect_rejected(file_of(R"({"__metadata__":{"a":1}})", {}),
                  "__metadata__ value of 'a' is not a string");
}

BOOST_AUTO_TEST_CASE(missing_files_and_folders_are_named) {
  test::temp_dir dir;
  expect_error<file_error>([&] { rt::read_safetensors(dir / "none.safetensors"); },
                           (dir / "none.safetensors").string(), "no such file");
  expect_error<file_error>([&] { rt::read_safetensors(dir.path()); }, dir.path().string(),
                           "is a directory");
  expect_error<file_error>([&] { rt::read_tensor_file(dir / "w.pt"); }, (dir / "w.pt").string(),
                           "no such file");
  kiln::test::write_file(dir / "w.pt", {'x', 'y', 'z'});  // neither a zip nor a pickle
  expect_error<file_error>([&] { rt::read_tensor_file(dir / "w.pt"); }, (dir / "w.pt").string(),
                           "unknown tensor file extension '.pt'");
  // A device never ends: refused before reading.
  expect_error<file_error>([&] { rt::read_safetensors("/dev/zero"); }, "/dev/zero",
                           "not a regular file");
}

BOOST_AUTO_TEST_CASE(writes_replace_files_atomically_and_leave_no_temporaries) {
  test::temp_dir dir;
  const auto path = dir / "w.safetensors";
  const std::vector<float> a = {1, 2}, b = {3, 4, 5};
  rt::write_safetensors(path, std::vector<rt::tensor_ref>{{"a", {2}, a}});
  rt::write_safetensors(path, std::vector<rt::tensor_ref>{{"b", {3}, b}});
  BOOST_TEST(rt::read_safetensors(path).tensors.at(0).name == "b");
  int files = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir.path())) ++files, (void)e;
  BOOST_TEST(files == 1);
  // A failing write (the folder is gone) leaves nothing behind and throws a file_error.
  BOOST_CHECK_THROW(rt::write_safetensors(dir / "missing" / "w.safetensors",
                                          std::vector<rt::tensor_ref>{{"a", {2}, a}}),
                    file_error);
  // A shape that does not match the values is a caller error, refused before writing.
  BOOST_CHECK_THROW(rt::write_safetensors(path, std::vector<rt::tensor_ref>{{"a", {3}, a}}),
                    config_error);
}

BOOST_AUTO_TEST_CASE(half_conversions_are_exact_on_every_half) {
  for (std::uint32_t h = 0; h < 0x10000; ++h) {
    const float f = rt::io::half_to_float(static_cast<std::uint16_t>(h));
    if (std::isnan(f)) continue;
    BOOST_TEST_REQUIRE(rt::io::float_to_half(f) == h);
  }
}
