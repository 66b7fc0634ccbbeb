#define BOOST_TEST_MODULE runtime_fit
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <cmath>
#include <limits>
#include <cstdlib>
#include <new>
#include <sstream>

#include "kiln/core/error.hpp"
#include "kiln/runtime/train/fit.hpp"
#include "../support/runtime.hpp"

#include "../support/allocations.hpp"  // the allocation counter: kiln::test::allocations

using namespace kiln;
using namespace kiln::test;

namespace {

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

std::vector<std::string> cells_of(const std::string& line) {
  std::vector<std::string> cells;
  std::istringstream in(line);
  for (std::string cell; std::getline(in, cell, ',');) cells.push_back(cell);
  if (!line.empty() && line.back() == ',') cells.emplace_back();
  return cells;
}

rt::fit_options quiet(int epochs, int batch, const fs::path& out = {}) {
  rt::fit_options o;
  o.epochs = epochs;
  o.batch = batch;
  o.seed = 5;
  o.out_dir = out;
  o.progress = false;
  return o;
}

// Predicts class int(x[0]) with certainty; its loss is the number of wrong predictions.
class lookup_model final : public rt::model {
 public:
  explicit lookup_model(int classes) {
    info_.input = {2};
    info_.outputs = classes;
    info_.batch = 4;
  }
  const rt::model_info& info() const override { return info_; }
  std::span<const rt::tensor> tensors() const override { return {}; }
  void set_threads(int) override {}
  void begin_epoch(int, long) override {}
  double current_lr() const override { return 0; }
  rt::step_result train_step(const rt::batch&) override { return {}; }
  rt::step_result eval_step(const rt::batch& b, float* outputs) override {
    rt::step_result r;
    for (int i = 0; i < b.n; ++i) {
      const int predicted = static_cast<int>(b.x[2 * i]);
      for (int c = 0; c < info_.outputs; ++c)
        outputs[i * info_.outputs + c] = c == predicted ? 1.0f : 0.0f;
      if (predicted == b.labels[i])
        ++r.correct;
      else
        r.loss_sum += 1;
    }
    return r;
  }

 private:
  rt::model_info info_;
};

// Predicts zero for one regression target; its loss is the squared target.
class zero_regressor final : public rt::model {
 public:
  zero_regressor() {
    info_.input = {1};
    info_.outputs = 1;
    info_.kind = rt::task::regress;
    info_.batch = 8;
  }
  const rt::model_info& info() const override { return info_; }
  std::span<const rt::tensor> tensors() const override { return {}; }
  void set_threads(int) override {}
  void begin_epoch(int, long) override {}
  double current_lr() const override { return 0.01; }
  rt::step_result train_step(const rt::batch& b) override { return eval_step(b, nullptr); }
  rt::step_result eval_step(const rt::batch& b, float*) override {
    rt::step_result r;
    for (int i = 0; i < b.n; ++i) r.loss_sum += b.targets[i] * b.targets[i];
    return r;
  }

 private:
  rt::model_info info_;
};

// Forwards to a linear_softmax and notes the allocation count at its first and latest step.
class allocation_watch final : public rt::model {
 public:
  explicit allocation_watch(rt::model& inner) : inner_(inner) {}
  const rt::model_info& info() const override { return inner_.info(); }
  std::span<const rt::tensor> tensors() const override { return inner_.tensors(); }
  void set_threads(int threads) override { inner_.set_threads(threads); }
  void begin_epoch(int epoch, long steps) override { inner_.begin_epoch(epoch, steps); }
  double current_lr() const override { return inner_.current_lr(); }
  rt::step_result train_step(const rt::batch& b) override {
    const rt::step_result r = inner_.train_step(b);
    note();
    return r;
  }
  rt::step_result eval_step(const rt::batch& b, float* outputs) override {
    note();
    return inner_.eval_step(b, outputs);
  }
  long after_first_step = -1, at_latest_step = -1;

 private:
  void note() {
    at_latest_step = allocations.load();
    if (after_first_step < 0) after_first_step = at_latest_step;
  }
  rt::model& inner_;
};

}  // namespace

BOOST_AUTO_TEST_SUITE(training)

BOOST_AUTO_TEST_CASE(epochs_allocate_nothing_after_the_first_step) {
  temp_dir dir;
  const rt::dataset train = blobs(300, 4, 3, 1), test = blobs(100, 4, 3, 2);
  linear_softmax inner({4}, 3, 16);
  allocation_watch model(inner);
  // Progress on: plain lines on stderr (ctest is not a terminal) must not allocate either.
  rt::fit_options o = quiet(3, 16, dir.path());
  o.progress = true;
  rt::fit(model, train, &test, o);
  BOOST_TEST(model.after_first_step >= 0);
  BOOST_TEST(model.at_latest_step == model.after_first_step);
}

BOOST_AUTO_TEST_CASE(trains_and_writes_one_metrics_row_per_epoch) {
  temp_dir dir;
  const rt::dataset train = blobs(600, 4, 3, 1), test = blobs(200, 4, 3, 2);
  linear_softmax model({4}, 3, 32);
  const fs::path out = dir / "run/nested";
  const rt::fit_result r = rt::fit(model, train, &test, quiet(3, 32, out));

  BOOST_TEST(model.epochs_begun == (std::vector<int>{0, 1, 2}), boost::test_tools::per_element());
  BOOST_TEST(model.steps_per_epoch == 19);
  BOOST_TEST(model.train_steps == 3 * 19);
  BOOST_TEST(model.largest_batch == 32);

  BOOST_REQUIRE(r.epochs.size() == 3u);
  for (int e = 0; e < 3; ++e) {
    BOOST_TEST(r.epochs[e].epoch == e + 1);
    BOOST_TEST(r.epochs[e].lr == 0.5);
    BOOST_TEST(r.epochs[e].seconds > 0);
    BOOST_TEST(r.epochs[e].samples_per_second > 0);
  }
  BOOST_TEST(r.epochs[2].train_loss < r.epochs[0].train_loss);
  BOOST_TEST(r.epochs[2].train_accuracy > 0.9);
  BOOST_TEST(r.epochs[2].test_accuracy > 0.9);
  BOOST_TEST(r.test.accuracy == r.epochs[2].test_accuracy);
  BOOST_TEST(r.test.classes == 3);

  const auto lines = lines_of(read_text(out / "metrics.csv"));
  BOOST_REQUIRE(lines.size() == 4u);
  BOOST_TEST(lines[0] ==
             "epoch,lr,train_loss,train_accuracy,test_loss,test_accuracy,seconds,"
             "samples_per_second,skipped_steps");
  for (int e = 0; e < 3; ++e) {
    const auto cells = cells_of(lines[e + 1]);
    BOOST_REQUIRE(cells.size() == 9u);
    BOOST_TEST(cells[8] == "0");
    BOOST_TEST(cells[0] == std::to_string(e + 1));
    BOOST_TEST(std::stod(cells[1]) == 0.5);
    // Written with %.6f: half a unit of the sixth decimal (and reading it back, an ulp).
    constexpr double printed = 5e-7 + 1e-15;
    BOOST_TEST(std::abs(std::stod(cells[2]) - r.epochs[e].train_loss) <= printed);
    BOOST_TEST(std::abs(std::stod(cells[5]) - r.epochs[e].test_accuracy) <= printed);
  }
}

BOOST_AUTO_TEST_CASE(same_seed_same_result) {
  const rt::dataset train = blobs(200, 4, 3, 1);
  linear_softmax a({4}, 3, 16), b({4}, 3, 16);
  const auto ra = rt::fit(a, train, nullptr, quiet(2, 16));
  const auto rb = rt::fit(b, train, nullptr, quiet(2, 16));
  BOOST_TEST(ra.epochs[1].train_loss == rb.epochs[1].train_loss);
}

BOOST_AUTO_TEST_CASE(without_a_test_set_the_test_cells_are_empty) {
  temp_dir dir;
  const rt::dataset train = blobs(50, 4, 3, 1);
  linear_softmax model({4}, 3, 64);
  const auto r = rt::fit(model, train, nullptr, quiet(2, 64, dir.path()));
  BOOST_TEST(std::isnan(r.epochs[0].test_loss));
  BOOST_TEST(r.test.confusion.empty());
  const auto lines = lines_of(read_text(dir / "metrics.csv"));
  BOOST_REQUIRE(lines.size() == 3u);
  const auto cells = cells_of(lines[1]);
  BOOST_REQUIRE(cells.size() == 9u);
  BOOST_TEST(cells[4].empty());
  BOOST_TEST(cells[5].empty());
}

BOOST_AUTO_TEST_CASE(regression_reports_loss_only) {
  temp_dir dir;
  rt::dataset data;
  data.sample_shape = {1};
  data.target_size = 1;
  data.x = {0, 0, 0, 0};
  data.targets = {1, 2, 3, 4};
  zero_regressor model;
  const auto r = rt::fit(model, data, &data, quiet(1, 3, dir.path()));
  BOOST_TEST(r.epochs[0].train_loss == 7.5);  // (1 + 4 + 9 + 16) / 4
  BOOST_TEST(r.epochs[0].test_loss == 7.5);
  BOOST_TEST(std::isnan(r.epochs[0].test_accuracy));
  const auto cells = cells_of(lines_of(read_text(dir / "metrics.csv"))[1]);
  BOOST_REQUIRE(cells.size() == 9u);
  BOOST_TEST(cells[3].empty());
  BOOST_TEST(!cells[4].empty());
  BOOST_TEST(cells[5].empty());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(validation)

BOOST_AUTO_TEST_CASE(sample_size_must_match_the_model_input) {
  rt::dataset train = blobs(20, 4, 3, 1);
  train.sample_shape = {1, 2, 2};
  linear_softmax model({1, 28, 28}, 3, 8);
  expect_error<config_error>([&] { rt::fit(model, train, nullptr, quiet(1, 8)); },
                             "training data (blobs)",
                             "sample shape 1x2x2 (4 values) does not match the model input "
                             "1x28x28 (784 values)");
  // Same size, different shape: accepted (a dense model reads 1x2x2 as 4 values).
  linear_softmax flat({4}, 3, 8);
  BOOST_CHECK_NO_THROW(rt::fit(flat, train, nullptr, quiet(1, 8)));
  // Two image layouts of the same size disagree: the pixels would be scrambled.
  linear_softmax image({2, 2, 1}, 3, 8);
  expect_error<config_error>([&] { rt::fit(image, train, nullptr, quiet(1, 8)); },
                             "training data (blobs)",
                             "sample shape 1x2x2 does not match the model input 2x2x1");
  train.sample_shape = {4};  // a flat dataset (a CSV row) goes into any layout of its size
  BOOST_CHECK_NO_THROW(rt::fit(image, train, nullptr, quiet(1, 8)));
}

BOOST_AUTO_TEST_CASE(values_and_targets_must_be_finite) {
  rt::dataset train = blobs(20, 4, 3, 1);
  train.x[4 * 5 + 3] = std::numeric_limits<float>::infinity();
  linear_softmax model({4}, 3, 8);
  expect_error<config_error>([&] { rt::fit(model, train, nullptr, quiet(1, 8)); },
                             "training data (blobs)", "value 3 of sample 5 is infinite");
  expect_error<config_error>([&] { rt::evaluate(model, train, 8); }, "evaluation data (blobs)",
                             "value 3 of sample 5 is infinite");
  BOOST_TEST(model.train_steps == 0);

  rt::dataset data;
  data.sample_shape = {1};
  data.target_size = 1;
  data.x = {0, 0, 0};
  data.targets = {1, std::numeric_limits<float>::quiet_NaN(), 3};
  zero_regressor regressor;
  expect_error<config_error>([&] { rt::fit(regressor, data, nullptr, quiet(1, 3)); },
                             "training data", "target 0 of sample 1 is NaN");
}

BOOST_AUTO_TEST_CASE(labels_must_be_within_the_outputs) {
  rt::dataset train = blobs(20, 4, 3, 1), test = blobs(10, 4, 3, 2);
  linear_softmax model({4}, 3, 8);
  train.labels[7] = 3;
  expect_error<config_error>([&] { rt::fit(model, train, nullptr, quiet(1, 8)); },
                             "training data (blobs)",
                             "label 3 of sample 7 is outside [0, 3) (the model's outputs)");
  train.labels[7] = 0;
  test.labels[2] = -1;
  expect_error<config_error>([&] { rt::fit(model, train, &test, quiet(1, 8)); },
                             "test data (blobs)", "label -1 of sample 2 is outside [0, 3)");
  BOOST_TEST(model.train_steps == 0);  // checked before any training
}

BOOST_AUTO_TEST_CASE(data_must_not_be_empty) {
  rt::dataset empty = blobs(0, 4, 3, 1);
  linear_softmax model({4}, 3, 8);
  expect_error<config_error>([&] { rt::fit(model, empty, nullptr, quiet(1, 8)); },
                             "training data (blobs)", "has no samples");
  empty.name.clear();
  expect_error<config_error>([&] { rt::evaluate(model, empty, 8); }, "evaluation data",
                             "has no samples");
}

BOOST_AUTO_TEST_CASE(batch_and_epochs_must_be_positive) {
  const rt::dataset train = blobs(20, 4, 3, 1);
  linear_softmax model({4}, 3, 8);
  expect_error<config_error>([&] { rt::fit(model, train, nullptr, quiet(1, 0)); }, "batch",
                             "must be at least 1, got 0");
  expect_error<config_error>([&] { rt::evaluate(model, train, 0); }, "batch",
                             "must be at least 1, got 0");
  expect_error<config_error>([&] { rt::fit(model, train, nullptr, quiet(1, 9)); }, "batch",
                             "9 is larger than the batch size the model was built for (8)");
  expect_error<config_error>([&] { rt::fit(model, train, nullptr, quiet(0, 8)); }, "epochs",
                             "must be at least 1, got 0");
}

BOOST_AUTO_TEST_CASE(labels_required_when_classifying) {
  rt::dataset train = blobs(20, 4, 3, 1);
  train.labels.clear();
  linear_softmax model({4}, 3, 8);
  expect_error<config_error>([&] { rt::fit(model, train, nullptr, quiet(1, 8)); },
                             "training data (blobs)", "0 labels for 20 samples");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_CASE(evaluate_counts_a_confusion_matrix) {
  // (label, prediction) for 10 samples over 3 classes; batch 4 leaves a partial batch of 2.
  const std::vector<std::pair<int, int>> cases = {{0, 0}, {0, 0}, {0, 1}, {1, 1}, {1, 1},
                                                  {1, 2}, {2, 2}, {2, 0}, {2, 0}, {2, 2}};
  rt::dataset data;
  data.name = "cases";
  data.sample_shape = {2};
  data.classes = 3;
  for (const auto& [label, prediction] : cases) {
    data.x.insert(data.x.end(), {static_cast<float>(prediction), 0.0f});
    data.labels.push_back(label);
  }
  lookup_model model(3);
  const rt::eval_result r = rt::evaluate(model, data, 4);
  BOOST_TEST(r.classes == 3);
  const std::vector<long> expected = {2, 1, 0,  //
                                      0, 2, 1,  //
                                      2, 0, 2};
  BOOST_TEST(r.confusion == expected, boost::test_tools::per_element());
  BOOST_TEST(r.accuracy == 0.6);
  BOOST_TEST(r.loss == 0.4);  // 4 wrong out of 10
}
