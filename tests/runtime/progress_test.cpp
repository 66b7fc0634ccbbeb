#define BOOST_TEST_MODULE runtime_progress
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cstdio>
#include <limits>
#include <string>

#include "kiln/runtime/train/progress.hpp"

using namespace kiln;

namespace {

// A temporary file to print into, read back as a string.
class sink {
 public:
  sink() : f_(std::tmpfile()) { BOOST_REQUIRE(f_); }
  ~sink() { std::fclose(f_); }
  std::FILE* file() const { return f_; }
  std::string text() const {
    std::fflush(f_);
    std::rewind(f_);
    std::string s;
    for (int c; (c = std::fgetc(f_)) != EOF;) s += static_cast<char>(c);
    return s;
  }

 private:
  std::FILE* f_;
};

rt::epoch_record record() {
  rt::epoch_record r;
  r.epoch = 3;
  r.lr = 0.05;
  r.train_loss = 0.312;
  r.train_accuracy = 0.8871;
  r.test_loss = 0.34;
  r.test_accuracy = 0.879;
  r.seconds = 1.234;
  r.samples_per_second = 48700;
  return r;
}

long count(const std::string& s, const std::string& what) {
  long n = 0;
  for (auto at = s.find(what); at != std::string::npos; at = s.find(what, at + 1)) ++n;
  return n;
}

void run_epoch(rt::progress_meter& meter, std::size_t samples, std::size_t step) {
  meter.begin_epoch(3, 10, samples);
  for (std::size_t done = step; done <= samples; done += step)
    meter.update(done, 0.5 * static_cast<double>(done), static_cast<long>(done / 2));
  meter.end_epoch(record());
}

}  // namespace

BOOST_AUTO_TEST_CASE(summary_line) {
  BOOST_TEST(rt::epoch_summary(record(), 10, true) ==
             "epoch 3/10  lr 0.05  train_loss 0.3120 train_acc 0.8871  test_loss 0.3400 "
             "test_acc 0.8790  1.23 s  48700 samples/s");
  rt::epoch_record no_test = record();
  no_test.test_loss = no_test.test_accuracy = std::numeric_limits<double>::quiet_NaN();
  BOOST_TEST(rt::epoch_summary(no_test, 10, false) ==
             "epoch 3/10  lr 0.05  train_loss 0.3120  1.23 s  48700 samples/s");
}

BOOST_AUTO_TEST_CASE(plain_lines_at_each_quarter_and_never_a_carriage_return) {
  sink out;
  rt::progress_meter meter(rt::progress_style::lines, true, out.file());
  run_epoch(meter, 1000, 10);
  const std::string text = out.text();
  BOOST_TEST_CONTEXT(text) {
    BOOST_TEST(count(text, "\r") == 0);
    BOOST_TEST(count(text, "\n") == 4);
    BOOST_TEST(count(text, "epoch 3/10   25%  loss 0.5000 acc 0.5000") == 1);
    BOOST_TEST(count(text, "epoch 3/10   50%") == 1);
    BOOST_TEST(count(text, "epoch 3/10   75%") == 1);
    BOOST_TEST(text.ends_with(rt::epoch_summary(record(), 10, true) + "\n"));
  }
}

BOOST_AUTO_TEST_CASE(bar_redraws_in_place_at_most_ten_times_a_second) {
  sink out;
  rt::progress_meter meter(rt::progress_style::bar, true, out.file());
  run_epoch(meter, 100000, 10);  // 10000 updates in far less than a second
  const std::string text = out.text();
  BOOST_TEST_CONTEXT(text) {
    // The first draw, perhaps one more, the final 100 %, and the clearing before the summary.
    BOOST_TEST(count(text, "\r") >= 3);
    BOOST_TEST(count(text, "\r") <= 6);
    BOOST_TEST(count(text, "100%") == 1);
    BOOST_TEST(count(text, "ETA") >= 1);
    BOOST_TEST(count(text, "\n") == 1);
    BOOST_TEST(text.ends_with("\r\033[K" + rt::epoch_summary(record(), 10, true) + "\n"));
  }
}

BOOST_AUTO_TEST_CASE(off_prints_nothing) {
  sink out;
  rt::progress_meter meter(rt::progress_style::off, true, out.file());
  run_epoch(meter, 100, 10);
  BOOST_TEST(out.text().empty());
}

BOOST_AUTO_TEST_CASE(a_file_is_not_a_terminal) {
  sink out;
  BOOST_TEST((rt::progress_style_for(out.file()) == rt::progress_style::lines));
}
