// What kiln sees in a file: the engine of the kiln-inspect tool.
#pragma once

#include <filesystem>
#include <ostream>

namespace kiln::rt {

// Prints the format, tensors (name, dtype, shape, a value summary), samples and labels, and
// metadata of any file kiln reads: IDX (raw or gzip), CIFAR-10 binary (.bin), CSV, .npy, .npz,
// safetensors (kiln checkpoints recognized), ONNX. The format comes from the content where it
// tells (safetensors, npy, zip, gzip, IDX), else from the extension. Throws kiln::file_error
// when the file is not valid.
void inspect(const std::filesystem::path& path, std::ostream& out);

// The kiln-inspect command line: `kiln-inspect FILE...`. Exit code 0 when every file is valid,
// 1 otherwise (one line "error: <file>: <problem>" on stderr per bad file), 2 on bad usage.
int inspect_main(int argc, char** argv);

}  // namespace kiln::rt
