#define BOOST_TEST_MODULE runtime_idx
#include <boost/test/unit_test.hpp>

#include <sys/stat.h>

#include "kiln/runtime/data/idx.hpp"
#include "kiln/core/error.hpp"
#include "../support/runtime.hpp"

using namespace kiln;
using namespace kiln::test;

namespace {

void expect_idx_error(const fs::path& path, const std::string& problem) {
  expect_error<file_error>([&] { rt::read_idx(path); }, path.string(), problem);
}

// The same content as a raw file and as a gzip file; both must fail with `problem`.
void expect_idx_error_both(const temp_dir& dir, const bytes& content, const std::string& problem) {
  BOOST_TEST_CONTEXT("raw") { expect_idx_error(write_file(dir / "bad.idx", content), problem); }
  BOOST_TEST_CONTEXT("gzip") {
    expect_idx_error(write_file(dir / "bad.idx.gz", gzip(content)), problem);
  }
}

}  // namespace

BOOST_AUTO_TEST_SUITE(good_files)

BOOST_AUTO_TEST_CASE(raw_three_dimensions) {
  temp_dir dir;
  const bytes data = counting(3 * 4 * 5);
  const auto idx = rt::read_idx(write_file(dir / "a.idx", idx_file({3, 4, 5}, data)));
  BOOST_TEST(idx.dims == (std::vector<std::uint32_t>{3, 4, 5}), boost::test_tools::per_element());
  BOOST_TEST(idx.data == data, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(gzip_detected_by_content_not_name) {
  temp_dir dir;
  const bytes data = counting(7 * 2);
  const auto idx = rt::read_idx(write_file(dir / "no-suffix", gzip(idx_file({7, 2}, data))));
  BOOST_TEST(idx.dims == (std::vector<std::uint32_t>{7, 2}), boost::test_tools::per_element());
  BOOST_TEST(idx.data == data, boost::test_tools::per_element());
  // And a raw file named .gz is read as raw.
  BOOST_TEST(rt::read_idx(write_file(dir / "raw.gz", idx_file({7, 2}, data))).data == data);
}

BOOST_AUTO_TEST_CASE(one_and_four_dimensions) {
  temp_dir dir;
  BOOST_TEST(rt::read_idx(write_file(dir / "1", idx_file({9}, counting(9)))).data.size() == 9u);
  const auto four = rt::read_idx(write_file(dir / "4", gzip(idx_file({2, 3, 1, 2}, counting(12)))));
  BOOST_TEST(four.dims.size() == 4u);
  BOOST_TEST(four.data == counting(12));
}

BOOST_AUTO_TEST_CASE(large_gzip_grows_past_first_allocation) {
  temp_dir dir;
  const bytes data = counting(3 * 1000 * 1000 + 17);
  BOOST_TEST(rt::read_idx(write_file(dir / "big.gz", gzip(idx_file({3000017}, data)))).data ==
             data);
}

BOOST_AUTO_TEST_CASE(concatenated_gzip_members_are_one_stream) {
  temp_dir dir;
  const bytes whole = idx_file({4, 5}, counting(20));
  const bytes first(whole.begin(), whole.begin() + 11), second(whole.begin() + 11, whole.end());
  bytes file = gzip(first);
  const bytes tail = gzip(second);
  file.insert(file.end(), tail.begin(), tail.end());
  BOOST_TEST(rt::read_idx(write_file(dir / "two.gz", file)).data == counting(20));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(malformed_files)

BOOST_AUTO_TEST_CASE(missing_file) {
  temp_dir dir;
  expect_idx_error(dir / "absent.idx.gz", "no such file");
}

BOOST_AUTO_TEST_CASE(directory_instead_of_file) {
  temp_dir dir;
  expect_idx_error(dir.path(), "is a directory");
}

BOOST_AUTO_TEST_CASE(fifo_and_device_refused_without_waiting) {
  // Opening a FIFO for reading blocks until a writer comes: refused before opening.
  temp_dir dir;
  BOOST_TEST_REQUIRE(mkfifo((dir / "pipe").c_str(), 0600) == 0);
  expect_idx_error(dir / "pipe", "not a regular file");
  expect_idx_error("/dev/zero", "not a regular file");
}

BOOST_AUTO_TEST_CASE(empty_and_shorter_than_magic) {
  temp_dir dir;
  expect_idx_error(write_file(dir / "empty", {}), "the file is empty");
  expect_idx_error_both(dir, {0, 0, 8}, "truncated: the IDX header needs 4 bytes at byte 0, the ");
}

BOOST_AUTO_TEST_CASE(bad_magic) {
  temp_dir dir;
  expect_idx_error_both(dir, {0x50, 0x4b, 0x08, 0x01, 0, 0, 0, 1, 7},
                        "not an IDX file: it starts with 0x50 0x4B, not two zero bytes");
}

BOOST_AUTO_TEST_CASE(unsupported_type) {
  temp_dir dir;
  expect_idx_error_both(dir, idx_file({2}, {0, 0, 0, 0, 0, 0, 0, 0}, 0x0D),
                        "unsupported IDX type 0x0D (only 0x08, unsigned byte, is supported)");
}

BOOST_AUTO_TEST_CASE(no_dimensions_or_too_many) {
  temp_dir dir;
  expect_idx_error_both(dir, {0, 0, 8, 0}, "unsupported number of dimensions 0 (expected 1 to 4)");
  expect_idx_error_both(dir, idx_file({1, 1, 1, 1, 1}, {9}),
                        "unsupported number of dimensions 5 (expected 1 to 4)");
}

BOOST_AUTO_TEST_CASE(header_shorter_than_its_dimensions) {
  temp_dir dir;
  bytes content = idx_file({60000, 28, 28}, {});
  content.resize(9);
  expect_idx_error(write_file(dir / "bad.idx", content),
                   "truncated: the IDX header needs 12 bytes at byte 4, the file has 9");
  // Inflated data has no size to check ahead: the first dimension that is missing is named.
  expect_idx_error(write_file(dir / "bad.idx.gz", gzip(content)),
                   "truncated: the IDX header needs 4 bytes at byte 8, the inflated data has 9");
}

BOOST_AUTO_TEST_CASE(zero_dimension) {
  temp_dir dir;
  expect_idx_error_both(dir, idx_file({3, 0, 2}, {}), "dimension 2 is zero (3 x 0 x 2)");
}

BOOST_AUTO_TEST_CASE(size_overflows) {
  temp_dir dir;
  const std::uint32_t big = 0xFFFFFFFF;
  expect_idx_error_both(dir, idx_file({big, big, big}, {1, 2, 3}),
                        "size 4294967295 x 4294967295 x 4294967295 overflows 64 bits");
}

BOOST_AUTO_TEST_CASE(truncated_data) {
  temp_dir dir;
  const bytes content = idx_file({3, 4}, counting(8));
  expect_idx_error(write_file(dir / "short.idx", content),
                   "truncated: the data (3 x 4) needs 12 bytes at byte 12, the file has 20");
  expect_idx_error(
      write_file(dir / "short.idx.gz", gzip(content)),
      "truncated: the data (3 x 4) needs 12 bytes at byte 12, the inflated data has 20");
}

BOOST_AUTO_TEST_CASE(huge_claim_in_a_small_file_allocates_nothing_big) {
  // 18 exabytes claimed: any attempt to allocate it up front would throw std::bad_alloc.
  temp_dir dir;
  const std::uint32_t big = 0xFFFFFFFF;
  const bytes content = idx_file({big, big}, counting(100));
  expect_idx_error(
      write_file(dir / "huge.idx", content),
      "truncated: the data (4294967295 x 4294967295) needs 18446744065119617025 bytes");
  // Compressed, the claim is refused before inflating: deflate cannot pass 1032:1.
  expect_idx_error(write_file(dir / "huge.gz", gzip(content)), "gzip file can inflate to");
  const bytes plausible = idx_file({100000}, counting(100));  // 100 kB from ~300 bytes: possible
  expect_idx_error(write_file(dir / "short.gz", gzip(plausible)), "the inflated data has 108");
}

BOOST_AUTO_TEST_CASE(trailing_data) {
  temp_dir dir;
  const bytes content = idx_file({2, 2}, counting(5));
  expect_idx_error(write_file(dir / "long.idx", content),
                   "trailing data: 1 byte after the data (2 x 2)");
  expect_idx_error(write_file(dir / "long.gz", gzip(content)),
                   "trailing data: the inflated data goes on after the data (2 x 2) at byte 16");
}

BOOST_AUTO_TEST_CASE(corrupt_gzip_stream) {
  temp_dir dir;
  bytes file = gzip(idx_file({1000}, counting(1000)));
  for (std::size_t i = 12; i < 24; ++i) file[i] ^= 0x5A;  // inside the deflate data
  expect_idx_error(write_file(dir / "corrupt.gz", file), "corrupt gzip stream: ");
}

BOOST_AUTO_TEST_CASE(gzip_checksum_mismatch) {
  temp_dir dir;
  bytes file = gzip(idx_file({100}, counting(100)));
  file[file.size() - 8] ^= 0x01;  // the CRC-32 of the trailer
  expect_idx_error(write_file(dir / "crc.gz", file), "corrupt gzip stream: incorrect data check");
}

BOOST_AUTO_TEST_CASE(truncated_gzip_file) {
  temp_dir dir;
  bytes file = gzip(idx_file({1000}, counting(1000)));
  file.resize(file.size() - 12);
  expect_idx_error(write_file(dir / "cut.gz", file),
                   "truncated gzip stream: the compressed data ends early");
}

BOOST_AUTO_TEST_CASE(garbage_after_gzip_stream) {
  temp_dir dir;
  bytes file = gzip(idx_file({10}, counting(10)));
  file.insert(file.end(), {0, 0, 0, 0});
  expect_idx_error(write_file(dir / "garbage.gz", file), "trailing bytes after the gzip stream");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(datasets)

BOOST_AUTO_TEST_CASE(images_and_labels) {
  temp_dir dir;
  const auto images = write_file(
      dir / "img.gz", gzip(idx_file({3, 2, 2}, {0, 51, 255, 1, 2, 3, 4, 5, 6, 7, 8, 9})));
  const auto labels = write_file(dir / "lab", idx_file({3}, {2, 0, 9}));
  const rt::dataset d = rt::read_idx_dataset(images, labels, 10);
  BOOST_TEST(d.size() == 3u);
  BOOST_TEST(d.sample_shape == (std::vector<int>{1, 2, 2}), boost::test_tools::per_element());
  BOOST_TEST(d.classes == 10);
  BOOST_TEST(d.labels == (std::vector<std::int32_t>{2, 0, 9}), boost::test_tools::per_element());
  BOOST_TEST(d.x[0] == 0.0f);
  BOOST_TEST(d.x[1] == 0.2f);
  BOOST_TEST(d.x[2] == 1.0f);
  BOOST_TEST(d.x[11] == 9.0f / 255.0f);
  BOOST_TEST(d.name == images.string());
}

BOOST_AUTO_TEST_CASE(images_must_be_three_dimensional) {
  temp_dir dir;
  const auto images = write_file(dir / "img", idx_file({3, 4}, counting(12)));
  const auto labels = write_file(dir / "lab", idx_file({3}, {0, 1, 2}));
  expect_error<file_error>([&] { rt::read_idx_dataset(images, labels, 10); }, images.string(),
                           "expected 3 dimensions (images x height x width), found 2");
}

BOOST_AUTO_TEST_CASE(labels_must_be_one_dimensional) {
  temp_dir dir;
  const auto images = write_file(dir / "img", idx_file({3, 1, 1}, counting(3)));
  const auto labels = write_file(dir / "lab", idx_file({3, 1}, {0, 1, 2}));
  expect_error<file_error>([&] { rt::read_idx_dataset(images, labels, 10); }, labels.string(),
                           "expected 1 dimension (labels), found 2");
}

BOOST_AUTO_TEST_CASE(counts_must_agree) {
  temp_dir dir;
  const auto images = write_file(dir / "img", idx_file({3, 1, 1}, counting(3)));
  const auto labels = write_file(dir / "lab", idx_file({2}, {0, 1}));
  expect_error<file_error>([&] { rt::read_idx_dataset(images, labels, 10); }, labels.string(),
                           "2 labels but " + images.string() + " has 3 images");
}

BOOST_AUTO_TEST_CASE(labels_must_be_below_classes) {
  temp_dir dir;
  const auto images = write_file(dir / "img", idx_file({3, 1, 1}, counting(3)));
  const auto labels = write_file(dir / "lab", idx_file({3}, {0, 12, 1}));
  expect_error<file_error>([&] { rt::read_idx_dataset(images, labels, 10); }, labels.string(),
                           "label 12 at index 1 is not below 10 classes");
}

BOOST_AUTO_TEST_SUITE_END()
