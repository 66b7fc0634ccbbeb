// Runs a command-line program of kiln's (optim_trace, kiln-inspect, ...) for a test: its exit
// code and its stdout and stderr lines, through files named after `stem` in the test's folder.
#pragma once

#include <sys/wait.h>

#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

namespace kiln::test {

struct program_result {
  int code = -1;
  std::vector<std::string> out, err;
};

inline std::vector<std::string> lines_of(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  return lines;
}

inline program_result run_program(const std::string& command, const std::string& stem) {
  const std::string out = stem + ".out", err = stem + ".err";
  const int status = std::system((command + " >" + out + " 2>" + err).c_str());
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, lines_of(out), lines_of(err)};
}

}  // namespace kiln::test
