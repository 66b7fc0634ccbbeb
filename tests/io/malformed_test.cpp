// The malformed-file corpus (tests/data/malformed, made by scripts/make_malformed_corpus.py): every
// file goes through the reader a user would call, from its path and from its bytes, and must be
// refused with a kiln::file_error "<path>: <problem>" on one line naming the expected problem --
// while allocating no more than a small multiple of the file's size (a 40-byte file claiming
// gigabytes gets nothing). kiln-inspect reads the same corpus in inspect_corpus.cmake.
#define BOOST_TEST_MODULE io_malformed
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <new>
#include <set>
#include <string>

#include "../support/runtime.hpp"
#include "kiln/runtime/data/cifar10.hpp"
#include "kiln/runtime/data/csv.hpp"
#include "kiln/runtime/data/idx.hpp"
#include "kiln/core/error.hpp"
#include "kiln/runtime/data/load.hpp"
#include "kiln/runtime/io/checkpoint.hpp"
#include "kiln/runtime/io/trained.hpp"
#include "kiln/runtime/io/npy.hpp"
#include "kiln/runtime/io/npz.hpp"
#include "kiln/runtime/io/onnx.hpp"
#include "kiln/runtime/io/safetensors.hpp"

// Live and peak bytes through operator new: each block carries its size in front.
namespace {
std::atomic<std::size_t> live{0}, peak{0};
constexpr std::size_t front = alignof(std::max_align_t);
}  // namespace

void* operator new(std::size_t size) {
  auto* p = static_cast<unsigned char*>(std::malloc(size + front));
  if (!p) throw std::bad_alloc();
  *reinterpret_cast<std::size_t*>(p) = size;
  const std::size_t now = live.fetch_add(size) + size;
  for (std::size_t seen = peak.load(); now > seen && !peak.compare_exchange_weak(seen, now);) {
  }
  return p + front;
}
void* operator new[](std::size_t size) { return operator new(size); }
void operator delete(void* p) noexcept {
  if (!p) return;
  auto* block = static_cast<unsigned char*>(p) - front;
  live.fetch_sub(*reinterpret_cast<std::size_t*>(block));
  std::free(block);
}
void operator delete[](void* p) noexcept { operator delete(p); }
void operator delete(void* p, std::size_t) noexcept { operator delete(p); }
void operator delete[](void* p, std::size_t) noexcept { operator delete(p); }

using namespace kiln;
namespace fs = std::filesystem;
using kiln::test::bytes;
using kiln::test::expect_error;

namespace {

const fs::path corpus = fs::path(KILN_FIXTURES) / "malformed";

struct malformed {
  std::string name, problem;
};

std::vector<malformed> expectations() {
  std::ifstream in(corpus / "expected.tsv");
  std::vector<malformed> out;
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    const auto tab = line.find('\t');
    BOOST_TEST_REQUIRE(tab != std::string::npos, "no tab in: " << line);
    out.push_back({line.substr(0, tab), line.substr(tab + 1)});
  }
  return out;
}

bytes read_bytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

// The readers a user calls for this file: from its path, and from its bytes.
std::vector<std::function<void()>> readers(const fs::path& path, const bytes& b) {
  const std::string p = path.string(), name = path.filename().string();
  if (name.starts_with("ckpt-"))
    return {[=] {
              test::linear_softmax m({4}, 3, 8);
              rt::load_checkpoint(path, m);
            },
            [=] { rt::read_checkpoint_metadata(rt::parse_safetensors(b, p)); }};
  if (ends_with(name, ".safetensors"))
    return {[=] { rt::read_safetensors(path); }, [=] { rt::read_tensor_file(path); },
            [=] { rt::parse_safetensors(b, p); },
            [=] {  // --init-from, predict's and export's weights
              test::linear_softmax m({4}, 3, 8);
              rt::load_trained(m, path);
            }};
  if (ends_with(name, ".npy"))
    return {[=] { rt::read_npy(path); }, [=] { rt::parse_npy(b, p, "x"); }};
  if (ends_with(name, ".npz")) {
    // Also as a dataset (--train x.npz) for a model of 4 inputs and 3 classes.
    const rt::model_info info = test::linear_softmax({4}, 3, 8).info();
    return {[=] { rt::read_npz(path); }, [=] { rt::parse_npz(b, p); },
            [=] { rt::read_dataset_file(path, {}, info); },
            [=] { rt::parse_npz_dataset(b, p, {}, info); }};
  }
  if (ends_with(name, ".onnx"))
    return {[=] { rt::read_onnx(path); }, [=] { rt::parse_onnx(b, p); }};
  if (ends_with(name, ".bin"))
    return {[=] { rt::read_cifar10({path}); }, [=] { rt::parse_cifar10(b, p); }};
  if (ends_with(name, ".csv"))
    return {[=] { rt::read_csv(path); },
            [=] {
              rt::parse_csv({reinterpret_cast<const char*>(b.data()), b.size()}, p);
            }};
  return {[=] { rt::read_idx(path); }, [=] { rt::parse_idx(b, p); }};
}

}  // namespace

BOOST_AUTO_TEST_CASE(every_file_is_listed_once) {
  std::set<std::string> listed, present;
  for (const auto& m : expectations()) BOOST_TEST(listed.insert(m.name).second, m.name);
  for (const auto& e : fs::directory_iterator(corpus))
    if (e.path().filename() != "expected.tsv") present.insert(e.path().filename().string());
  BOOST_TEST(listed == present, boost::test_tools::per_element());
  BOOST_TEST(listed.size() >= 150u);
}

BOOST_AUTO_TEST_CASE(every_file_is_refused_by_its_readers) {
  std::map<std::string, int> per_format;
  int reads = 0;
  for (const auto& m : expectations()) {
    const fs::path path = corpus / m.name;
    const bytes b = read_bytes(path);
    for (const auto& read : readers(path, b)) {
      BOOST_TEST_CONTEXT(m.name) {
        const std::size_t before = live.load();
        peak.store(before);
        expect_error<file_error>(read, path.string(), m.problem);
        // What the file can justify: a multiple of its size, plus fixed buffers (gzip's 1 MB
        // first output block, parser state).
        BOOST_TEST(peak.load() - before <= 64 * b.size() + (std::size_t{2} << 20));
      }
      ++reads;
    }
    ++per_format[fs::path(m.name).extension().string()];
  }
  for (const auto& [ext, n] : per_format) BOOST_TEST_MESSAGE(ext << ": " << n << " files");
  BOOST_TEST_MESSAGE(expectations().size() << " malformed files, " << reads << " reads refused");
}
