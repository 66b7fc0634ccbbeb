#include "kiln/runtime/train/progress.hpp"

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>

namespace kiln::rt {
namespace {

constexpr auto redraw_interval = std::chrono::milliseconds(100);
constexpr int bar_cells = 16;  // the whole line fits in 80 columns

std::string format(const char* fmt, auto... args) {
  char buf[256];
  std::snprintf(buf, sizeof buf, fmt, args...);
  return buf;
}

std::size_t terminal_width(std::FILE* out) {
  winsize ws{};
  if (ioctl(fileno(out), TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
  return 80;
}

std::string minutes_seconds(double seconds) {
  const long s = std::lround(std::max(0.0, seconds));
  return s >= 3600 ? format("%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60)
                   : format("%ld:%02ld", s / 60, s % 60);
}

}  // namespace

progress_style progress_style_for(std::FILE* out) {
  return isatty(fileno(out)) ? progress_style::bar : progress_style::lines;
}

std::string epoch_summary(const epoch_record& r, int epochs, bool classify) {
  std::string line =
      format("epoch %d/%d  lr %g  train_loss %.4f", r.epoch, epochs, r.lr, r.train_loss);
  if (classify) line += format(" train_acc %.4f", r.train_accuracy);
  if (!std::isnan(r.test_loss)) {
    line += format("  test_loss %.4f", r.test_loss);
    if (classify) line += format(" test_acc %.4f", r.test_accuracy);
  }
  line += format("  %.2f s  %.0f samples/s", r.seconds, r.samples_per_second);
  return line;
}

progress_meter::progress_meter(progress_style style, bool classify, std::FILE* out)
    : style_(style), classify_(classify), out_(out) {
  if (style_ == progress_style::bar) width_ = terminal_width(out_);
}

void progress_meter::begin_epoch(int epoch, int epochs, std::size_t samples) {
  epoch_ = epoch, epochs_ = epochs, samples_ = samples;
  quarters_shown_ = 0;
  bar_drawn_ = false;
  start_ = clock::now();
  last_draw_ = start_ - redraw_interval;
}

std::string progress_meter::status(std::size_t done, double loss_sum, long correct,
                                   double seconds) const {
  const double n = static_cast<double>(std::max<std::size_t>(done, 1));
  std::string s = format("loss %.4f", loss_sum / n);
  if (classify_) s += format(" acc %.4f", static_cast<double>(correct) / n);
  if (seconds > 0) s += format("  %.0f samples/s", static_cast<double>(done) / seconds);
  return s;
}

void progress_meter::update(std::size_t done, double loss_sum, long correct) {
  if (style_ == progress_style::off || samples_ == 0) return;
  const auto now = clock::now();
  const double seconds = std::chrono::duration<double>(now - start_).count();

  if (style_ == progress_style::lines) {
    const int quarter = static_cast<int>(4 * done / samples_);
    if (quarter <= quarters_shown_ || quarter >= 4) return;
    quarters_shown_ = quarter;
    std::fprintf(out_, "epoch %d/%d  %3d%%  %s\n", epoch_, epochs_, 25 * quarter,
                 status(done, loss_sum, correct, seconds).c_str());
    std::fflush(out_);
    return;
  }

  if (now - last_draw_ < redraw_interval && done < samples_) return;
  last_draw_ = now;
  const double fraction = static_cast<double>(done) / static_cast<double>(samples_);
  const int full = static_cast<int>(fraction * bar_cells);
  std::string bar(bar_cells, ' ');
  std::fill_n(bar.begin(), full, '=');
  if (full < bar_cells) bar[full] = '>';
  const double n = static_cast<double>(std::max<std::size_t>(done, 1));
  std::string line = format("epoch %d/%d [%s] %3.0f%%  loss %.4f", epoch_, epochs_, bar.c_str(),
                            100 * fraction, loss_sum / n);
  if (classify_) line += format(" acc %.4f", static_cast<double>(correct) / n);
  if (done > 0 && seconds > 0) {
    const double rate = static_cast<double>(done) / seconds;
    line += "  ETA " + minutes_seconds(static_cast<double>(samples_ - done) / rate);
    line += rate >= 1e4 ? format("  %.1fk/s", rate / 1e3) : format("  %.0f/s", rate);
  }
  draw_bar(line);
}

void progress_meter::draw_bar(const std::string& line) {
  // "\033[K" clears what a longer previous line left behind.
  std::fprintf(out_, "\r%.*s\033[K", static_cast<int>(std::min(line.size(), width_ - 1)),
               line.c_str());
  std::fflush(out_);
  bar_drawn_ = true;
}

void progress_meter::end_epoch(const epoch_record& r) {
  if (style_ == progress_style::off) return;
  if (bar_drawn_) std::fputs("\r\033[K", out_);
  std::fprintf(out_, "%s\n", epoch_summary(r, epochs_, classify_).c_str());
  std::fflush(out_);
  bar_drawn_ = false;
}

}  // namespace kiln::rt
