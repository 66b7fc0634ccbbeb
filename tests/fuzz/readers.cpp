// One libFuzzer target per reader (tests/fuzz/CMakeLists.txt builds this file once per reader,
// defining KILN_FUZZ_<reader>). Any input must either parse into something consistent or be
// refused with a kiln::error whose message is one line naming the input; anything else -- a
// crash, a sanitizer report, another exception, an allocation past libFuzzer's
// -malloc_limit_mb, a hang past -timeout -- is a finding.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <span>
#include <string>
#include <string_view>

#include "kiln/runtime/data/cifar10.hpp"
#include "kiln/runtime/data/csv.hpp"
#include "kiln/runtime/data/idx.hpp"
#include "kiln/core/error.hpp"
#include "kiln/runtime/data/load.hpp"
#include "kiln/runtime/io/bytes.hpp"
#include "kiln/runtime/io/checkpoint.hpp"
#include "kiln/runtime/io/gzip.hpp"
#include "kiln/runtime/io/npy.hpp"
#include "kiln/runtime/io/npz.hpp"
#include "kiln/runtime/io/onnx.hpp"
#include "kiln/runtime/io/safetensors.hpp"
#include "kiln/runtime/io/trained.hpp"
#include "../support/toy_model.hpp"

namespace {

using namespace kiln;
constexpr const char* name = "fuzz-input";

[[noreturn]] void finding(const std::string& what) {
  std::fprintf(stderr, "kiln fuzz finding: %s\n", what.c_str());
  std::abort();
}

void expect(bool ok, const char* what) {
  if (!ok) finding(what);
}

std::size_t count(std::span<const std::size_t> shape) {
  const auto n = rt::io::checked_count(shape);
  expect(n.has_value(), "a parsed shape overflows");
  return *n;
}

// What a parsed tensor file must satisfy.
void consistent(const rt::tensor_file& f) {
  for (const auto& t : f.tensors) expect(count(t.shape) == t.values.size(), "values != shape");
}

// A parsed safetensors file written back and read again is the same file (as float32).
void round_trip(const rt::tensor_file& f) {
  std::vector<rt::tensor_ref> refs;
  for (const auto& t : f.tensors) refs.push_back({t.name, t.shape, t.values});
  const auto again = rt::parse_safetensors(rt::serialize_safetensors(refs, f.metadata), name);
  expect(again.tensors.size() == f.tensors.size() && again.metadata == f.metadata,
         "round trip changed the file");
  for (std::size_t i = 0; i < f.tensors.size(); ++i) {
    const auto &a = f.tensors[i], &b = again.tensors[i];
    expect(a.name == b.name && a.shape == b.shape &&
               std::memcmp(a.values.data(), b.values.data(), a.values.size() * 4) == 0,
           "round trip changed a tensor");
  }
}

// Runs a reader: it may refuse the input only with a kiln::error of one line naming it.
template <class F>
void refused_or_read(F&& f) {
  try {
    f();
  } catch (const kiln::error& e) {
    const std::string_view what = e.what();
    if (what.find('\n') != std::string_view::npos)
      finding(std::string("a message spans lines: ") + e.what());
    if (!what.starts_with(std::string(name) + ": "))
      finding(std::string("a message does not name the input: ") + e.what());
  }
}

void read(std::span<const std::uint8_t> b) {
#if defined(KILN_FUZZ_idx)
  const rt::idx_u8 idx = rt::parse_idx(b, name);
  std::vector<std::size_t> dims(idx.dims.begin(), idx.dims.end());
  expect(count(dims) == idx.data.size(), "IDX data != dims");
#elif defined(KILN_FUZZ_cifar10)
  const rt::dataset d = rt::parse_cifar10(b, name);
  expect(d.x.size() == d.size() * 3072 && d.labels.size() == d.size(), "CIFAR-10 sizes");
#elif defined(KILN_FUZZ_csv)
  const std::string_view text(reinterpret_cast<const char*>(b.data()), b.size());
  for (const int label : {0, -1})
    refused_or_read([&] {
      const rt::dataset d = rt::parse_csv(text, name, {.label_column = label});
      expect(d.size() * d.sample_size() == d.x.size(), "CSV sizes");
      expect(label < 0 ? d.labels.empty() : d.labels.size() == d.size(), "CSV labels");
    });
#elif defined(KILN_FUZZ_npy)
  const rt::named_tensor t = rt::parse_npy(b, name, "x");
  expect(count(t.shape) == t.values.size(), "npy values != shape");
#elif defined(KILN_FUZZ_npz)
  consistent(rt::parse_npz(b, name));
#elif defined(KILN_FUZZ_safetensors)
  const rt::tensor_file f = rt::parse_safetensors(b, name);
  consistent(f);
  round_trip(f);
#elif defined(KILN_FUZZ_onnx)
  consistent(rt::parse_onnx(b, name));
#elif defined(KILN_FUZZ_csv_dataset)
  // --train data.csv[.gz] for the toy model (4 inputs, 3 classes), and predict's features.
  fuzz::toy_model m;
  for (const bool answers : {true, false})
    refused_or_read([&] {
      const rt::dataset d = rt::parse_csv_dataset(b, name, {}, m.info(), answers);
      expect(d.x.size() == d.size() * 4, "CSV dataset sizes");
      for (const auto l : d.labels) expect(l >= 0 && l < 3, "a label outside the classes");
    });
#elif defined(KILN_FUZZ_npz_dataset)
  fuzz::toy_model m;
  for (const bool answers : {true, false})
    refused_or_read([&] {
      const rt::dataset d = rt::parse_npz_dataset(b, name, {}, m.info(), answers);
      expect(d.x.size() == d.size() * 4, "npz dataset sizes");
      for (const auto l : d.labels) expect(l >= 0 && l < 3, "a label outside the classes");
    });
#elif defined(KILN_FUZZ_gunzip)
  const auto out = rt::io::gunzip(b, name, std::uint64_t{1} << 26);
  expect(out.size() <= b.size() * rt::io::max_deflate_ratio, "inflated past deflate's ratio");
#elif defined(KILN_FUZZ_trained)
  // --init-from / predict's weights: a safetensors or npz file (told by its first bytes).
  fuzz::toy_model m;
  const bool zip = b.size() >= 2 && b[0] == 'P' && b[1] == 'K';
  rt::load_trained(m, zip ? rt::parse_npz(b, name) : rt::parse_safetensors(b, name));
#elif defined(KILN_FUZZ_checkpoint)
  const rt::tensor_file f = rt::parse_safetensors(b, name);
  fuzz::toy_model m;
  rt::load_checkpoint(f, m);
#else
#error "define KILN_FUZZ_<reader>"
#endif
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  refused_or_read([&] { read({data, size}); });
  return 0;
}
