// mlp_bench's two halves: the command line (mlp_bench.cpp, through common/command_line.hpp, no
// trainer) and the measurements (mlp_bench_run.cpp), so that an edit of a trainer header recompiles
// only those.
#pragma once

#include <string>
#include <vector>

namespace sample {

struct options {
  std::vector<int> threads{1, 2};
  int repeats = 5;
  bool json = false, cpu_clock = false;
  std::string only, precision = "f32";
};

// Measures and prints the table (or the JSON object); the process's exit status.
int run(const options& o);

}  // namespace sample
