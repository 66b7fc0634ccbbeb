// metrics.csv in the run's output folder: one row per epoch, written and flushed as the epoch
// ends (a killed run keeps every finished epoch); a resumed run appends to it.
#pragma once

#include <filesystem>
#include <fstream>

#include "kiln/runtime/train/fit.hpp"

namespace kiln::rt::detail {

class metrics_csv {
 public:
  // No folder: writes nothing. `append`: a resumed run adds its epochs to the rows already there.
  metrics_csv(const std::filesystem::path& dir, bool append);
  void write(const epoch_record& r);

 private:
  void flush();

  std::filesystem::path path_;
  std::ofstream out_;
};

}  // namespace kiln::rt::detail
