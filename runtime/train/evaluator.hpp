// Evaluation of one dataset, repeatedly (after every epoch): the buffers are sized once, so
// that later runs allocate nothing. Data-parallel, each rank evaluates its part and the sums
// are shared.
#pragma once

#include <algorithm>
#include <cstddef>
#include <limits>
#include <span>
#include <vector>

#include "kiln/core/comm.hpp"
#include "kiln/runtime/data/dataset.hpp"
#include "kiln/runtime/model.hpp"
#include "kiln/core/team.hpp"
#include "kiln/runtime/train/fit.hpp"

namespace kiln::rt::detail {

class evaluator {
 public:
  evaluator(const model& m, int batch_size)
      : batch_(batch_size),
        outputs_(static_cast<std::size_t>(m.info().outputs)),
        classify_(m.info().kind == task::classify),
        out_(classify_ ? static_cast<std::size_t>(batch_size) * outputs_ : 0) {}

  // Sizes r for the results, so that run() reuses its memory.
  void prepare(eval_result& r) const {
    r.classes = classify_ ? static_cast<int>(outputs_) : 0;
    r.confusion.assign(classify_ ? outputs_ * outputs_ : 0, 0);
  }

  // Data-parallel (several ranks in c): each rank evaluates its part of the data and the sums
  // are shared, so every rank gets the whole data's result.
  void run(model& m, const dataset& data, eval_result& r, const comm& c = comm::single()) {
    const std::size_t n = data.size(), sample = data.sample_size();
    prepare(r);
    double loss_sum = 0;
    const span_range part = share_of(n, c.size(), c.rank());
    // Rows are contiguous: batches are views into the dataset, nothing is copied.
    for (std::size_t first = part.lo; first < part.hi; first += static_cast<std::size_t>(batch_)) {
      const int count = static_cast<int>(std::min<std::size_t>(batch_, part.hi - first));
      const batch b{count, data.x.data() + first * sample,
                    classify_ ? data.labels.data() + first : nullptr,
                    classify_ ? nullptr : data.targets.data() + first * outputs_};
      loss_sum += m.eval_step(b, classify_ ? out_.data() : nullptr).loss_sum;
      if (!classify_) continue;
      for (int i = 0; i < count; ++i) {
        const float* row = out_.data() + i * outputs_;
        const auto predicted =
            static_cast<std::size_t>(std::max_element(row, row + outputs_) - row);
        ++r.confusion[static_cast<std::size_t>(b.labels[i]) * outputs_ + predicted];
      }
    }
    if (c.distributed()) {
      c.sum(std::span(&loss_sum, 1), "the evaluation loss");
      c.sum(std::span(r.confusion), "the confusion matrix");
    }
    r.loss = loss_sum / static_cast<double>(n);
    r.accuracy = std::numeric_limits<double>::quiet_NaN();
    if (classify_) {
      long right = 0;
      for (std::size_t c = 0; c < outputs_; ++c) right += r.confusion[c * outputs_ + c];
      r.accuracy = static_cast<double>(right) / static_cast<double>(n);
    }
  }

 private:
  int batch_;
  std::size_t outputs_;
  bool classify_;
  std::vector<float> out_;
};

}  // namespace kiln::rt::detail
