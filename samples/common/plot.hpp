// Charts through gnuplot (gnuplot-nox has the pngcairo, png and svg terminals): a script given
// as text or as a file. The samples write their data as CSV beside the chart, so that a machine
// without gnuplot still has the figures.
#pragma once

#include <stdio.h>

#include <cstdlib>
#include <filesystem>
#include <string>

namespace common {

// Whether gnuplot can be run.
inline bool gnuplot_available() { return std::system("command -v gnuplot > /dev/null 2>&1") == 0; }

// Runs gnuplot on the commands in `script`; true when it succeeded.
inline bool gnuplot(const std::string& script) {
  FILE* g = popen("gnuplot", "w");
  if (!g) return false;
  std::fputs(script.c_str(), g);
  return pclose(g) == 0;
}

// Runs gnuplot on a script file; true when it succeeded.
inline bool gnuplot_file(const std::filesystem::path& script) {
  return std::system(("gnuplot '" + script.string() + "'").c_str()) == 0;
}

}  // namespace common
