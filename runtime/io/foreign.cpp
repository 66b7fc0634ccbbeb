#include "kiln/runtime/io/foreign.hpp"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "kiln/runtime/io/bytes.hpp"

namespace kiln::rt::io {
namespace {

bool has_member(const std::vector<std::string>& members, std::string_view name) {
  for (const std::string& m : members)
    if (m == name) return true;
  return false;
}

// The path as a Python string literal between single quotes.
std::string python_literal(const std::string& path) {
  std::string out = "'";
  for (const char c : printable(path, 200)) {
    if (c == '\'' || c == '\\') out += '\\';
    out += c;
  }
  return out + "'";
}

std::string with_extension(const std::string& path, const char* ext) {
  return std::filesystem::path(path).replace_extension(ext).string();
}

}  // namespace

std::string pytorch_checkpoint(const std::string& path) {
  return "a PyTorch pickle checkpoint (torch.save); kiln does not run pickles: save it with "
         "safetensors, in Python: import torch, safetensors.torch; "
         "safetensors.torch.save_file(torch.load(" +
         python_literal(path) + ", map_location='cpu'), " +
         python_literal(with_extension(path, ".safetensors")) + ")";
}

bool is_pytorch_zip(const std::vector<std::string>& members) {
  // torch.save since 1.6: <archive>/data.pkl, <archive>/data/0, ..., <archive>/version.
  for (const std::string& m : members)
    if (m == "data.pkl" || m.ends_with("/data.pkl")) return true;
  return false;
}

bool is_scipy_sparse(const std::vector<std::string>& members) {
  return has_member(members, "format.npy") && has_member(members, "shape.npy") &&
         has_member(members, "data.npy");
}

std::string scipy_sparse(const std::string& path, const std::string& sparse_format) {
  return "a SciPy sparse matrix (scipy.sparse.save_npz" +
         (sparse_format.empty() ? std::string() : ", " + printable(sparse_format, 8) + " format") +
         "); kiln reads dense arrays: save it as one, in Python: import numpy, scipy.sparse; "
         "numpy.savez(" +
         python_literal(with_extension(path, ".dense.npz")) + ", x=scipy.sparse.load_npz(" +
         python_literal(path) + ").toarray())";
}

std::optional<std::string> foreign_format(std::span<const std::uint8_t> head,
                                          const std::string& path) {
  // Pickle protocols 2 to 5 start with PROTO (0x80) and the protocol number; torch.save before
  // 1.6 wrote such a pickle.
  if (head.size() >= 2 && head[0] == 0x80 && head[1] >= 2 && head[1] <= 5)
    return pytorch_checkpoint(path);
  if (head.size() >= 8 && std::memcmp(head.data(), "\x89HDF\r\n\x1a\n", 8) == 0)
    return "an HDF5 file (Keras .h5, MATLAB 7.3 .mat); kiln does not read HDF5: save the weights "
           "as safetensors or .npz";
  if (head.size() >= 8 && std::memcmp(head.data() + 4, "TFL3", 4) == 0)  // flatbuffer identifier
    return "a TensorFlow Lite model; kiln reads ONNX, safetensors, .npy and .npz";
  return std::nullopt;
}

bool whitespace_separated(std::string_view line) {
  int numbers = 0;
  for (std::size_t at = 0; at < line.size();) {
    while (at < line.size() && (line[at] == ' ' || line[at] == '\t' || line[at] == '\r')) ++at;
    if (at == line.size()) break;
    std::size_t end = at;
    while (end < line.size() && line[end] != ' ' && line[end] != '\t' && line[end] != '\r') ++end;
    const std::string field(line.substr(at, end - at));
    char* stop = nullptr;
    errno = 0;
    const double v = std::strtod(field.c_str(), &stop);
    if (stop != field.c_str() + field.size() || errno == ERANGE || !std::isfinite(v)) return false;
    ++numbers;
    at = end;
  }
  return numbers >= 2;
}

}  // namespace kiln::rt::io
