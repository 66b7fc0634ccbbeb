// .npy and .npz: round trips, NumPy's dtypes and header variants, Fortran order, stored and
// deflated archives, and malformed files rejected with a message naming the file (and member).
#define BOOST_TEST_MODULE io_numpy
#include <boost/test/unit_test.hpp>

#include <zip.h>

#include <cstring>

#include "../support/runtime.hpp"
#include "kiln/core/error.hpp"
#include "kiln/runtime/io/npy.hpp"
#include "kiln/runtime/io/npz.hpp"

using namespace kiln;
using kiln::test::bytes;
using kiln::test::expect_error;

namespace {

// A .npy file as NumPy (or a hostile writer) would lay it out.
bytes npy_of(const std::string& header, const bytes& data, int major = 1) {
  bytes out = {0x93, 'N', 'U', 'M', 'P', 'Y', std::uint8_t(major), 0};
  const std::size_t n = header.size();
  out.push_back(std::uint8_t(n & 0xff));
  out.push_back(std::uint8_t(n >> 8));
  if (major > 1) out.insert(out.end(), {0, 0});
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

void expect_npy_rejected(const bytes& content, const std::string& problem) {
  test::temp_dir dir;
  const auto path = test::write_file(dir / "bad.npy", content);
  expect_error<file_error>([&] { rt::read_npy(path); }, path.string(), problem);
}

// A zip made with libzip directly: members with any content and compression.
void write_zip(const std::filesystem::path& path,
               const std::vector<std::pair<std::string, bytes>>& members, bool deflate) {
  int err = 0;
  zip_t* z = zip_open(path.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &err);
  BOOST_REQUIRE(z);
  for (const auto& [name, content] : members) {
    zip_source_t* s = zip_source_buffer(z, content.data(), content.size(), 0);
    const auto i = zip_file_add(z, name.c_str(), s, 0);
    zip_set_file_compression(z, static_cast<zip_uint64_t>(i),
                             deflate ? ZIP_CM_DEFLATE : ZIP_CM_STORE, 0);
  }
  BOOST_REQUIRE(zip_close(z) == 0);
}

}  // namespace

BOOST_AUTO_TEST_CASE(npy_round_trip_is_bitwise) {
  test::temp_dir dir;
  const std::vector<float> v = {1, -2.5f, 3e-40f, 4, 5, 6};
  for (const std::vector<std::size_t>& shape : {std::vector<std::size_t>{6}, {2, 3}, {1, 2, 3}}) {
    rt::write_npy(dir / "a.npy", shape, v);
    const auto f = rt::read_npy(dir / "a.npy");
    BOOST_TEST(f.tensors.at(0).name == "a");
    BOOST_TEST(f.tensors[0].shape == shape, boost::test_tools::per_element());
    BOOST_TEST(std::memcmp(f.tensors[0].values.data(), v.data(), 24) == 0);
  }
  const float one = 1;
  rt::write_npy(dir / "s.npy", {}, {&one, 1});
  BOOST_TEST(rt::read_npy(dir / "s.npy").tensors[0].shape.empty());
}

BOOST_AUTO_TEST_CASE(npy_reads_numpy_dtypes_versions_and_fortran_order) {
  auto parse = [](const bytes& b) { return rt::parse_npy(b, "x.npy", "x"); };
  const auto f8 = parse(npy_of("{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }\n",
                               raw<double>({0.5, -1e300})));
  BOOST_TEST(f8.values[0] == 0.5f);
  BOOST_TEST(std::isinf(f8.values[1]));
  const auto i8 = parse(
      npy_of("{'shape': (), 'descr': '<i8', 'fortran_order': False}", raw<std::int64_t>({-7}), 2));
  BOOST_TEST(i8.values.at(0) == -7.0f);
  const auto f2 = parse(npy_of("{\"descr\": \"<f2\", \"fortran_order\": False, \"shape\": (1, 1)}",
                               raw<std::uint16_t>({0x3c00}), 3));
  BOOST_TEST(f2.values.at(0) == 1.0f);
  // Fortran order stores columns first: [[1, 2, 3], [4, 5, 6]] is 1 4 2 5 3 6.
  const auto fortran = parse(npy_of("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }",
                                    raw<float>({1, 4, 2, 5, 3, 6})));
  BOOST_TEST(fortran.values == std::vector<float>({1, 2, 3, 4, 5, 6}),
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(malformed_npy_is_rejected_with_the_problem) {
  const std::string good = "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }";
  expect_npy_rejected({1, 2, 3}, "not a .npy file");
  expect_npy_rejected(npy_of(good, raw<float>({1, 2}), 4), "unsupported .npy version 4.0");
  {
    bytes b = npy_of(good, {});
    b[8] = 0xff, b[9] = 0x7f;
    expect_npy_rejected(b, "truncated: the header needs 32767 bytes");
  }
  expect_npy_rejected(
      npy_of("{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }", raw<float>({1, 2})),
      "dtype '>f4' is big-endian; save it little-endian ('<f4')");
  expect_npy_rejected(
      npy_of("{'descr': '<c8', 'fortran_order': False, 'shape': (2,), }", raw<float>({1, 2})),
      "dtype '<c8' is not supported");
  expect_npy_rejected(npy_of(good, raw<float>({1})),
                      "truncated: shape 2 of <f4 needs 8 bytes at byte 67, the file has 71");
  expect_npy_rejected(npy_of(good, raw<float>({1, 2, 3})), "trailing data: 4 bytes");
  expect_npy_rejected(npy_of("{'descr': '<f4', 'shape': (2,), }", raw<float>({1, 2})),
                      "malformed .npy header: needs the keys");
  expect_npy_rejected(npy_of("{'descr': '<f4', 'fortran_order': Maybe, 'shape': (2,)}", {}),
                      "expected True or False");
  expect_npy_rejected(npy_of("{'descr': '<f4', 'fortran_order': False, 'shape': (-2,)}", {}),
                      "a dimension is not a non-negative integer");
  expect_npy_rejected(npy_of("{'descr': '<f4', 'fortran_order': False, 'shape': "
                             "(99999999999999999999999,)}",
                             {}),
                      "a dimension is too large");
  expect_npy_rejected(
      npy_of("{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296)}", {}),
      "overflows");
  expect_npy_rejected(npy_of("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'x': 1}", {}),
                      "unexpected key 'x'");
  expect_npy_rejected(npy_of("{'descr': '<f4", {}), "unterminated string");
}

BOOST_AUTO_TEST_CASE(npz_round_trip_stored_and_deflated) {
  test::temp_dir dir;
  const std::vector<float> w = {1, 2, 3, 4, 5, 6}, b = {-1, 0.5f};
  const std::vector<rt::tensor_ref> tensors = {{"fc1.weight", {2, 3}, w}, {"fc1.bias", {2}, b}};
  for (const bool compress : {false, true}) {
    rt::write_npz(dir / "w.npz", tensors, compress);
    const auto f = rt::read_npz(dir / "w.npz");
    BOOST_TEST(f.format == "npz");
    BOOST_REQUIRE_EQUAL(f.tensors.size(), 2u);
    BOOST_TEST(f.find("fc1.weight")->values == w, boost::test_tools::per_element());
    BOOST_TEST(f.find("fc1.bias")->shape == std::vector<std::size_t>({2}),
               boost::test_tools::per_element());
  }
}

BOOST_AUTO_TEST_CASE(malformed_npz_is_rejected_naming_the_member) {
  test::temp_dir dir;
  const auto path = dir / "bad.npz";
  const bytes good =
      npy_of("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", raw<float>({1}));
  test::write_file(path, {'P', 'K', 3, 4, 0, 0});
  expect_error<file_error>([&] { rt::read_npz(path); }, path.string(), "not a valid zip archive");
  write_zip(path, {{"a.txt", good}}, false);
  expect_error<file_error>([&] { rt::read_npz(path); }, path.string() + ": member 'a.txt'",
                           "not a .npy member");
  write_zip(path, {{"a.npy", bytes{1, 2, 3}}}, true);
  expect_error<file_error>([&] { rt::read_npz(path); }, path.string() + ": member 'a.npy'",
                           "not a .npy file");
  // A flipped byte inside deflated data: libzip's CRC check (or inflate) catches it.
  write_zip(path, {{"a.npy", bytes(4096, 7)}}, true);
  bytes content;
  {
    std::ifstream in(path, std::ios::binary);
    content.assign(std::istreambuf_iterator<char>(in), {});
  }
  content[40] ^= 0xff;
  test::write_file(path, content);
  BOOST_CHECK_THROW(rt::read_npz(path), file_error);
  // Truncated archive: the central directory is gone.
  content.resize(content.size() / 2);
  test::write_file(path, content);
  expect_error<file_error>([&] { rt::read_npz(path); }, path.string(), "not a valid zip archive");
}
