// dp_bench's two halves: the command line (dp_bench.cpp, through common/command_line.hpp, no
// trainer) and the measurements (dp_bench_run.cpp), so that an edit of a trainer header recompiles
// only those.
#pragma once

#include <string>

namespace sample {

struct options {
  int steps = 300, batch = 64, repeats = 3;
  bool overlap = false;
  std::string models = "mlp,cnn", data;  // data: the Fashion-MNIST folder
};

// Measures and prints one line per model and repeat on rank 0; the process's exit status.
int run(const options& o);

}  // namespace sample
