#include "kiln/runtime/app/inspect.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <exception>
#include <iostream>
#include <iomanip>
#include <string>
#include <vector>

#include "kiln/runtime/data/cifar10.hpp"
#include "kiln/runtime/data/csv.hpp"
#include "kiln/runtime/data/idx.hpp"
#include "kiln/core/error.hpp"
#include "kiln/runtime/io/bytes.hpp"
#include "kiln/runtime/io/checkpoint.hpp"
#include "kiln/runtime/io/file.hpp"
#include "kiln/runtime/io/foreign.hpp"
#include "kiln/runtime/io/tensor_file.hpp"
#include "kiln/runtime/io/npy.hpp"
#include "kiln/runtime/io/npz.hpp"
#include "kiln/runtime/io/onnx.hpp"
#include "kiln/runtime/io/safetensors.hpp"

namespace kiln::rt {
namespace {

namespace fs = std::filesystem;

enum class kind { safetensors, npy, npz, onnx, idx, cifar10, csv };

kind detect(const fs::path& path) {
  // The one checked open (io::input_file): a FIFO, socket, device, directory, missing or
  // unreadable file is refused here, before a byte is read; then the first bytes only.
  const io::input_file file(path);
  if (file.size() == 0) throw file_error(file.path(), "the file is empty");
  std::vector<std::uint8_t> b(16);
  b.resize(file.read_at(0, b.data(), b.size()));
  if (auto foreign = io::foreign_format(b, file.path())) throw file_error(file.path(), *foreign);
  const std::string ext = path.extension().string(), name = path.filename().string();
  // Magic numbers first; safetensors has none, its JSON header starts at byte 8 (which may be
  // a length byte of a .npy header, hence the order).
  if (b.size() >= 6 && std::memcmp(b.data(), "\x93NUMPY", 6) == 0) return kind::npy;
  if (b.size() >= 4 && std::memcmp(b.data(), "PK\x03\x04", 4) == 0) return kind::npz;
  if (b.size() >= 2 && b[0] == 0x1f && b[1] == 0x8b) return kind::idx;  // kiln's gzip: IDX
  if (b.size() >= 9 && b[8] == '{' && ext != ".csv") return kind::safetensors;
  if (ext == ".safetensors") return kind::safetensors;
  if (ext == ".npy") return kind::npy;
  if (ext == ".npz") return kind::npz;
  if (ext == ".onnx") return kind::onnx;
  if (ext == ".bin") return kind::cifar10;
  if (ext == ".csv") return kind::csv;
  // MNIST's names: train-images-idx3-ubyte, t10k-labels-idx1-ubyte.gz
  if (ext == ".idx" || name.find("-idx") != std::string::npos) return kind::idx;
  if (b.size() >= 3 && b[0] == 0 && b[1] == 0) return kind::idx;
  throw file_error(path.string(),
                   "unknown format (kiln reads IDX, CIFAR-10 .bin, .csv, .npy, .npz, "
                   ".safetensors and .onnx)");
}

void print_values(std::ostream& out, const std::vector<float>& v) {
  if (v.empty()) return;
  const auto [lo, hi] = std::minmax_element(v.begin(), v.end());
  double sum = 0;
  std::size_t finite = 0;
  for (float x : v)
    if (std::isfinite(x)) sum += x, ++finite;
  out << "  min " << *lo << "  max " << *hi << "  mean " << (finite ? sum / double(finite) : 0);
  if (finite != v.size()) out << "  non-finite " << v.size() - finite;
}

void print_tensors(const tensor_file& f, std::ostream& out) {
  std::size_t width = 4, values = 0;
  for (const auto& t : f.tensors) width = std::max(width, io::printable(t.name).size());
  const bool checkpoint = is_checkpoint(f.metadata);
  // Checked as a resume would, short of the model (and before printing anything).
  const checkpoint_metadata c = checkpoint ? read_checkpoint_metadata(f) : checkpoint_metadata{};
  out << f.path << ": " << (checkpoint ? "kiln checkpoint (" + f.format + ")" : f.format) << ", "
      << f.tensors.size() << " tensor" << (f.tensors.size() == 1 ? "" : "s") << "\n";
  for (const auto& t : f.tensors) {
    out << "  " << std::left << std::setw(int(width)) << io::printable(t.name) << "  "
        << std::setw(4) << dtype_name(t.stored) << "  " << std::setw(12) << shape_text(t.shape)
        << std::right;
    print_values(out, t.values);
    out << "\n";
    values += t.values.size();
  }
  out << "  " << values << " values in all\n";
  if (checkpoint) {
    out << "checkpoint: step " << c.state.steps << ", epoch " << c.info.at.epoch + 1 << " after "
        << c.info.at.batch << " batches of " << c.info.batch << ", loader seed " << c.info.seed
        << ", fingerprint " << io::printable(c.fingerprint) << "\n";
  }
  if (!f.metadata.empty()) {
    out << "metadata:\n";
    for (const auto& [k, v] : f.metadata)
      out << "  " << io::printable(k) << " = " << io::printable(v, 200) << "\n";
  }
}

void print_labels(const dataset& d, std::ostream& out) {
  if (d.labels.empty()) return;
  std::vector<long> counts(static_cast<std::size_t>(std::max(d.classes, 1)), 0);
  for (auto l : d.labels) ++counts[static_cast<std::size_t>(l)];
  out << "  labels 0.." << d.classes - 1 << ", per class:";
  for (long c : counts) out << " " << c;
  out << "\n";
}

void print_dataset(const fs::path& path, const char* format, const dataset& d, std::ostream& out) {
  std::vector<std::size_t> shape(d.sample_shape.begin(), d.sample_shape.end());
  out << path.string() << ": " << format << ", " << d.size() << " samples of " << shape_text(shape)
      << "\n";
  print_labels(d, out);
  out << "  values";
  print_values(out, d.x);
  out << "\n";
}

}  // namespace

void inspect(const fs::path& path, std::ostream& out) {
  switch (detect(path)) {
    case kind::safetensors:
      return print_tensors(read_safetensors(path), out);
    case kind::npy:
      return print_tensors(read_npy(path), out);
    case kind::npz:
      return print_tensors(read_npz(path), out);
    case kind::onnx:
      return print_tensors(read_onnx(path), out);
    case kind::cifar10:
      return print_dataset(path, "CIFAR-10 binary", read_cifar10({path}), out);
    case kind::csv:
      return print_dataset(path, "CSV (label in column 1)", read_csv(path), out);
    case kind::idx: {
      const idx_u8 idx = read_idx(path);
      std::vector<std::size_t> dims(idx.dims.begin(), idx.dims.end());
      out << path.string() << ": IDX, unsigned bytes, " << shape_text(dims) << "\n";
      if (!idx.data.empty()) {
        const auto [lo, hi] = std::minmax_element(idx.data.begin(), idx.data.end());
        out << "  min " << int(*lo) << "  max " << int(*hi) << "\n";
      }
      return;
    }
  }
}

int inspect_main(int argc, char** argv) {
  if (argc < 2 || std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0) {
    std::fprintf(argc < 2 ? stderr : stdout,
                 "usage: kiln-inspect FILE...\nPrints the tensors, dtypes, shapes and metadata "
                 "(or samples and labels) kiln reads from each file: IDX, CIFAR-10 .bin, .csv, "
                 ".npy, .npz, .safetensors (and kiln checkpoints), .onnx.\n");
    return argc < 2 ? 2 : 0;
  }
  int status = 0;
  for (int i = 1; i < argc; ++i) {
    try {
      inspect(argv[i], std::cout);
    } catch (const std::exception& e) {
      std::string line = e.what();
      std::replace(line.begin(), line.end(), '\n', ' ');
      std::cout.flush();
      std::fprintf(stderr, "error: %s\n", line.c_str());
      status = 1;
    }
  }
  return status;
}

}  // namespace kiln::rt
