// torch_import's two halves: the command line (torch_import.cpp, through common/command_line.hpp,
// no trainer) and the models (torch_import_run.cpp), so that an edit of a trainer header recompiles
// only the models.
#pragma once

#include <string>

namespace sample {

struct options {
  std::string arch, weights, data;  // data: the Fashion-MNIST folder
  int count = 32;
};

// Loads the weights into `arch`, prints the logits and the accuracy; the process's exit status.
int run(const options& o);

}  // namespace sample
