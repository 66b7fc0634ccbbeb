// Files kiln does not read but knows by sight, named as what they are in the one-line error
// (with what to do instead), rather than described as a broken file of another format.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace kiln::rt::io {

// A PyTorch checkpoint (torch.save's zip holding data.pkl, or a bare pickle): the problem text
// for `path`, with the two lines of Python that save it as safetensors.
std::string pytorch_checkpoint(const std::string& path);

// A zip archive's member names: the problem text when they are a PyTorch checkpoint's
// (".../data.pkl") or a SciPy sparse matrix's (scipy.sparse.save_npz: data, indices, indptr,
// format, shape; `sparse_format` is what format.npy holds, "csr", "coo", ...).
bool is_pytorch_zip(const std::vector<std::string>& members);
bool is_scipy_sparse(const std::vector<std::string>& members);
std::string scipy_sparse(const std::string& path, const std::string& sparse_format);

// From the first bytes alone: a Python pickle (legacy torch.save), HDF5 (Keras .h5), ...; the
// problem text for `path`, or nothing.
std::optional<std::string> foreign_format(std::span<const std::uint8_t> head,
                                          const std::string& path);

// Text whose values are separated by blanks (spaces or tabs) rather than `delimiter`: the first
// line that holds anything, when it splits into two or more numbers on blanks.
bool whitespace_separated(std::string_view line);

}  // namespace kiln::rt::io
