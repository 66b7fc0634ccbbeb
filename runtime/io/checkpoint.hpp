// Checkpoints: a safetensors file holding every tensor of the model (parameters, optimizer
// state, buffers) and, in __metadata__, what else a run needs to continue exactly: the step
// count and generator state, where in which epoch it stopped, the loader's seed and batch size,
// and the fingerprint of the model and plan. Written atomically; PyTorch can read it too.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>

#include "kiln/runtime/io/tensor_file.hpp"
#include "kiln/runtime/model.hpp"

namespace kiln::rt {

// Where a run stands.
struct run_position {
  int epoch = 0;   // the epoch in progress, 0-based
  long batch = 0;  // batches of it already trained
  // That epoch's running figures, so that its metrics come out as if never interrupted.
  double loss_sum = 0;
  long correct = 0;
  std::size_t seen = 0;
  double seconds = 0;
  long skipped = 0;  // steps skipped for a non-finite loss or gradient (plan: skip_step)
};

struct checkpoint_info {
  run_position at;
  std::uint64_t seed = 0;  // the loader's: the sample order of every epoch depends on it
  int batch = 0;           // the batch size: the positions above count batches of it
};

void save_checkpoint(const std::filesystem::path& path, const model& m, const checkpoint_info& c);

// What a checkpoint's metadata holds, checked: the model is needed only to load the tensors.
struct checkpoint_metadata {
  std::string fingerprint;  // of the model and plan that wrote it
  resume_state state;
  checkpoint_info info;
};
// Throws kiln::file_error "<path>: ..." when `file` is not a kiln checkpoint, has another format
// version, or a key is missing or malformed (numbers must be plain decimal digits, the generator
// state 64 hex digits).
checkpoint_metadata read_checkpoint_metadata(const tensor_file& file);

// Loads a checkpoint into `m` (every tensor, optimizer state included, and the resume state).
// Refuses, before changing anything, a file that is not a kiln checkpoint, one written for
// another model or plan (the fingerprints differ), and any tensor mismatch.
checkpoint_info load_checkpoint(const std::filesystem::path& path, model& m);
// The same from a safetensors file already read (parse_safetensors).
checkpoint_info load_checkpoint(const tensor_file& file, model& m);

// The metadata of a checkpoint as key -> value, for tools (kiln-inspect).
bool is_checkpoint(const std::map<std::string, std::string>& metadata);

}  // namespace kiln::rt
