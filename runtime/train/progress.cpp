#include "kiln/runtime/train/progress.hpp"

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdarg>

namespace kiln::rt {
namespace {

constexpr auto redraw_interval = std::chrono::milliseconds(100);
constexpr int bar_cells = 16;  // the whole bar line fits in 80 columns

// A line built in place: printing progress must not allocate while the model trains.
class line {
 public:
  [[gnu::format(printf, 2, 3)]] line& add(const char* fmt, ...) {
    std::va_list args;
    va_start(args, fmt);
    const int n = std::vsnprintf(text_ + size_, sizeof text_ - size_, fmt, args);
    va_end(args);
    if (n > 0) size_ = std::min(size_ + static_cast<std::size_t>(n), sizeof text_ - 1);
    return *this;
  }
  const char* c_str() const { return text_; }
  std::size_t size() const { return size_; }

 private:
  char text_[512] = {};
  std::size_t size_ = 0;
};

std::size_t terminal_width(std::FILE* out) {
  winsize ws{};
  if (ioctl(fileno(out), TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
  return 80;
}

void add_duration(line& l, double seconds) {
  const long s = std::lround(std::max(0.0, seconds));
  if (s >= 3600)
    l.add("%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
  else
    l.add("%ld:%02ld", s / 60, s % 60);
}

void add_summary(line& l, const epoch_record& r, int epochs, bool classify) {
  l.add("epoch %d/%d", r.epoch, epochs);
  if (!std::isnan(r.lr)) l.add("  lr %g", r.lr);  // NaN: the optimizer has none (newton_cg)
  l.add("  train_loss %.4f", r.train_loss);
  if (classify) l.add(" train_acc %.4f", r.train_accuracy);
  if (!std::isnan(r.test_loss)) {
    l.add("  test_loss %.4f", r.test_loss);
    if (classify) l.add(" test_acc %.4f", r.test_accuracy);
  }
  l.add("  %.2f s  %.0f samples/s", r.seconds, r.samples_per_second);
  if (r.skipped_steps > 0) l.add("  %ld steps skipped (non-finite)", r.skipped_steps);
}

}  // namespace

progress_style progress_style_for(std::FILE* out) {
  return isatty(fileno(out)) ? progress_style::bar : progress_style::lines;
}

std::string epoch_summary(const epoch_record& r, int epochs, bool classify) {
  line l;
  add_summary(l, r, epochs, classify);
  return l.c_str();
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

void progress_meter::update(std::size_t done, double loss_sum, long correct) {
  if (style_ == progress_style::off || samples_ == 0) return;
  const auto now = clock::now();
  const int quarter = static_cast<int>(4 * done / samples_);
  if (style_ == progress_style::lines && (quarter <= quarters_shown_ || quarter >= 4)) return;
  if (style_ == progress_style::bar && now - last_draw_ < redraw_interval && done < samples_)
    return;

  const double seconds = std::chrono::duration<double>(now - start_).count();
  const double n = static_cast<double>(std::max<std::size_t>(done, 1));
  const double rate = seconds > 0 ? static_cast<double>(done) / seconds : 0;
  line l;
  if (style_ == progress_style::lines) {
    quarters_shown_ = quarter;
    l.add("epoch %d/%d  %3d%%  loss %.4f", epoch_, epochs_, 25 * quarter, loss_sum / n);
    if (classify_) l.add(" acc %.4f", static_cast<double>(correct) / n);
    l.add("  %.0f samples/s\n", rate);
    std::fputs(l.c_str(), out_);
    std::fflush(out_);
    return;
  }

  last_draw_ = now;
  const double fraction = static_cast<double>(done) / static_cast<double>(samples_);
  const int full = static_cast<int>(fraction * bar_cells);
  char bar[bar_cells + 1];
  for (int i = 0; i < bar_cells; ++i) bar[i] = i < full ? '=' : i == full ? '>' : ' ';
  bar[bar_cells] = '\0';
  l.add("epoch %d/%d [%s] %3.0f%%  loss %.4f", epoch_, epochs_, bar, 100 * fraction, loss_sum / n);
  if (classify_) l.add(" acc %.4f", static_cast<double>(correct) / n);
  if (rate > 0) {
    l.add("  ETA ");
    add_duration(l, static_cast<double>(samples_ - done) / rate);
    if (rate >= 1e4)
      l.add("  %.1fk/s", rate / 1e3);
    else
      l.add("  %.0f/s", rate);
  }
  // Cut to the terminal so that '\r' returns to the start of this line; "\033[K" clears what a
  // longer previous line left behind.
  std::fprintf(out_, "\r%.*s\033[K", static_cast<int>(std::min(l.size(), width_ - 1)), l.c_str());
  std::fflush(out_);
  bar_drawn_ = true;
}

void progress_meter::end_epoch(const epoch_record& r) {
  if (style_ == progress_style::off) return;
  if (bar_drawn_) std::fputs("\r\033[K", out_);
  line l;
  add_summary(l, r, epochs_, classify_);
  l.add("\n");
  std::fputs(l.c_str(), out_);
  std::fflush(out_);
  bar_drawn_ = false;
}

}  // namespace kiln::rt
