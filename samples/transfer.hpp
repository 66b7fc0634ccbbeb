// transfer's two halves: the command line (transfer.cpp, through common/command_line.hpp, no
// trainer) and the runs (transfer_run.cpp), so that an edit of a trainer header recompiles only the
// runs.
#pragma once

#include <string>

namespace sample {

struct options {
  std::string data;  // the Fashion-MNIST folder
  int repeats = 3, pretrain_epochs = 5, threads = 1;
};

// Pretrains, then prints the table; the process's exit status.
int run(const options& o);

}  // namespace sample
