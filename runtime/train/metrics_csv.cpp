#include "kiln/runtime/train/metrics_csv.hpp"

#include <cmath>
#include <cstdio>

#include "kiln/core/error.hpp"

namespace kiln::rt::detail {

namespace fs = std::filesystem;

metrics_csv::metrics_csv(const fs::path& dir, bool append) {
  if (dir.empty()) return;
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw file_error(dir.string(), "cannot create the folder: " + ec.message());
  path_ = dir / "metrics.csv";
  const bool header = !append || !fs::exists(path_, ec);
  out_.open(path_, header ? std::ios::trunc : std::ios::app);
  if (!out_) throw file_error(path_.string(), "cannot open for writing");
  if (header)
    out_ << "epoch,lr,train_loss,train_accuracy,test_loss,test_accuracy,seconds,"
            "samples_per_second,skipped_steps\n";
  flush();
}

void metrics_csv::write(const epoch_record& r) {
  if (path_.empty()) return;
  char row[256];
  int n = std::snprintf(row, sizeof row, "%d", r.epoch);
  // A missing figure (no test set, accuracy of a regression) is an empty cell.
  const auto cell = [&](const char* fmt, double v) {
    n += std::snprintf(row + n, sizeof row - n, ",");
    if (!std::isnan(v)) n += std::snprintf(row + n, sizeof row - n, fmt, v);
  };
  cell("%.9g", r.lr);
  cell("%.6f", r.train_loss);
  cell("%.6f", r.train_accuracy);
  cell("%.6f", r.test_loss);
  cell("%.6f", r.test_accuracy);
  cell("%.4f", r.seconds);
  cell("%.1f", r.samples_per_second);
  n += std::snprintf(row + n, sizeof row - n, ",%ld", r.skipped_steps);
  n += std::snprintf(row + n, sizeof row - n, "\n");
  out_.write(row, n);
  flush();
}

void metrics_csv::flush() {
  out_.flush();
  if (!out_) throw file_error(path_.string(), "write failed");
}

}  // namespace kiln::rt::detail
