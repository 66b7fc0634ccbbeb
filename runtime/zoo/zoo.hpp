// The model zoo: named models trained by kiln's own samples, their weights in the repository
// (safetensors, F16), each verified by SHA-256 before it is used. The architectures are DSL
// declarations in dsl/zoo.hpp; kiln::zoo::pretrained<>() (kiln/zoo.hpp) builds one with its
// weights; the kiln-zoo tool lists and evaluates them.
#pragma once

#include <filesystem>
#include <span>
#include <string>
#include <string_view>

#include "kiln/runtime/io/tensor_file.hpp"
#include "kiln/runtime/model.hpp"

namespace kiln::zoo {

struct entry {
  std::string_view name;           // "fmnist_mlp"
  std::string_view architecture;   // in words; the DSL declaration is kiln::zoo::<name>
  std::string_view dataset;        // what it was trained on
  std::string_view normalization;  // what its inputs must be
  double accuracy;                 // test accuracy of these weights
  std::string_view weights;        // file in the zoo folder
  std::string_view sha256;         // of that file
  std::string_view reproduce;      // the command that trained it
};

// Every model of the zoo.
std::span<const entry> entries();

// The entry named `name`; kiln::config_error listing the names otherwise.
const entry& find(std::string_view name);

// Where the weight files are: $KILN_ZOO, else the installed share/kiln/zoo, else the source
// tree's runtime/zoo/weights.
std::filesystem::path directory();

// The entry's weights, read from `dir` after their SHA-256 matched the entry's; a mismatch is a
// kiln::file_error naming the file, the expected and the found digest (a damaged or replaced
// file never loads).
rt::tensor_file weights(const entry& e, const std::filesystem::path& dir = directory());

// Loads the entry's weights into `m` (strict: every tensor, same names and shapes).
void load(rt::model& m, const entry& e, const std::filesystem::path& dir = directory());

}  // namespace kiln::zoo
