// Bringing weights into a model: which tensor of a file goes into which tensor of the model
// (DSL names, PyTorch nn.Sequential positions, an explicit map), checked completely before a
// single value is written, so that a failed import leaves the model as it was.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "kiln/runtime/io/tensor_file.hpp"
#include "kiln/runtime/model.hpp"

namespace kiln::rt {

// How file tensor names are matched with the model's.
enum class naming {
  automatic,   // the DSL name ("fc1.weight"), else the nn.Sequential one ("1.weight")
  dsl,         // only the names the model's tensors() give
  sequential,  // only nn.Sequential positions: a PyTorch state dict of the same layers
};

struct import_options {
  // strict: every parameter and buffer of the model must come from the file and every tensor
  // of the file must go somewhere. lenient: what is missing keeps its value, what is left over
  // is ignored; both are listed in the report.
  bool strict = true;
  naming names = naming::automatic;
  // Explicit map, applied first: file tensor name -> model tensor name.
  std::map<std::string, std::string> rename;
  // Model tensors left as they are, by exact name or by layer ("head" or "head."): a replaced
  // head keeps its fresh initialization; the file's tensors for it are skipped.
  std::vector<std::string> keep;
  // Also load optimizer state (checkpoints). Otherwise state tensors in the file are skipped.
  bool optimizer_state = false;
};

struct import_report {
  std::vector<std::string> loaded;   // model tensors written
  std::vector<std::string> missing;  // model tensors the file did not provide (lenient)
  std::vector<std::string> unused;   // file tensors that went nowhere (lenient)
};

// Loads `file` into `m`. Throws kiln::file_error "<file>: tensor '<name>': <problem>" (missing
// or unexpected tensor in strict mode, shape mismatch, two file tensors for one model tensor)
// and kiln::config_error for an explicit map naming no tensor of the model. Shapes are compared
// as given by m.tensors() (PyTorch layouts), so no layout conversion is ever guessed.
// BatchNorm's num_batches_tracked is optional on both sides: loaded when both have it, never
// missing nor unexpected (ONNX exports leave it out; it changes no output).
import_report load_weights(model& m, const tensor_file& file, const import_options& options = {});
import_report load_weights(model& m, const std::filesystem::path& file,
                           const import_options& options = {});

// The model's parameters and buffers (and optimizer state when asked) as a tensor file in
// memory: to copy weights between models (transfer learning) through load_weights.
tensor_file snapshot(const model& m, bool optimizer_state = false);

// Writes the parameters and buffers as safetensors (F32, or F16/BF16 for compact releases).
// PyTorch loads the file with safetensors.torch.load_file; the names are the DSL's.
void save_weights(const model& m, const std::filesystem::path& path, dtype as = dtype::f32);

}  // namespace kiln::rt
