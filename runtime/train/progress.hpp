// Training progress for a person watching: an updating bar on a terminal, a few plain lines in a
// log, and one summary line per epoch.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdio>
#include <string>

#include "kiln/runtime/train/fit.hpp"

namespace kiln::rt {

enum class progress_style {
  bar,    // one line redrawn in place with '\r' (at most ~10 times a second)
  lines,  // a line at 25, 50 and 75 % of each epoch; never '\r'
  off     // nothing, not even the epoch summaries
};

// `bar` when `out` is a terminal, `lines` otherwise.
progress_style progress_style_for(std::FILE* out);

// "epoch 3/10  lr 0.05  train_loss 0.3120 train_acc 0.8871  test_loss 0.3400 test_acc 0.8790
// 1.23 s  48700 samples/s" (accuracies only when classifying, test figures only when they exist).
std::string epoch_summary(const epoch_record& r, int epochs, bool classify);

// Prints without allocating, so a training loop stays allocation-free.
class progress_meter {
 public:
  progress_meter(progress_style style, bool classify, std::FILE* out = stderr);

  void begin_epoch(int epoch, int epochs, std::size_t samples);  // epoch is 1-based
  // After each batch: `done` samples of the epoch so far, their summed loss and correct count.
  void update(std::size_t done, double loss_sum, long correct);
  // Clears the bar and prints the epoch's summary line.
  void end_epoch(const epoch_record& r);

 private:
  using clock = std::chrono::steady_clock;

  progress_style style_;
  bool classify_;
  std::FILE* out_;
  int epoch_ = 0, epochs_ = 0;
  std::size_t samples_ = 0;
  int quarters_shown_ = 0;
  std::size_t width_ = 0;  // terminal columns; the bar line is cut to fit so '\r' keeps working
  bool bar_drawn_ = false;
  clock::time_point start_, last_draw_;
};

}  // namespace kiln::rt
