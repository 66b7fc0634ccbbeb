// ensemble's two halves: the command line (ensemble.cpp, through common/command_line.hpp, no
// trainer) and the runs (ensemble_run.cpp), so that an edit of a trainer header recompiles only the
// runs.
#pragma once

#include <string>

namespace sample {

struct options {
  std::string data;  // the Fashion-MNIST folder
  int members = 0, epochs = 0, timing_epochs = 2;
  bool timing_only = false;
};

// The plans' members and epochs (ensemble_run.cpp declares the plans).
options defaults();

// Trains, prints the tables; the process's exit status.
int run(const options& o);

}  // namespace sample
