// Helpers for the runtime tests: files made on the spot (../support/files.hpp), the check of a
// kiln error's message, and a small hand-written model (softmax regression) standing in for a
// generated trainer.
#pragma once

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "kiln/runtime/data/dataset.hpp"
#include "kiln/runtime/model.hpp"
#include "kiln/core/rng.hpp"
#include "bits.hpp"
#include "files.hpp"

namespace kiln::test {

// Runs `f` and expects an E whose one-line message starts with `subject: ` and contains `problem`.
template <class E>
void expect_error(const std::function<void()>& f, const std::string& subject,
                  const std::string& problem) {
  try {
    f();
    BOOST_ERROR("no exception; expected \"" << subject << ": ..." << problem << "\"");
  } catch (const E& e) {
    const std::string what = e.what();
    BOOST_TEST_CONTEXT("message: " << what) {
      BOOST_TEST(what.rfind(subject + ": ", 0) == 0);
      BOOST_TEST(what.find(problem) != std::string::npos);
      BOOST_TEST(what.find('\n') == std::string::npos);
    }
  }
}

// Every tensor of a model (parameters, optimizer state, buffers), one after the other.
inline std::vector<float> all_tensors(const rt::model& m) {
  std::vector<float> out;
  for (const auto& t : m.tensors()) out.insert(out.end(), t.data.begin(), t.data.end());
  return out;
}

// A classification dataset whose class is readable from the input: class c raises value c.
inline rt::dataset blobs(std::size_t n, int features, int classes, std::uint64_t seed) {
  rt::rng r(seed, 99);
  rt::dataset d;
  d.name = "blobs";
  d.sample_shape = {features};
  d.classes = classes;
  d.x.resize(n * features);
  d.labels.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    const auto c = static_cast<int>(r.below(classes));
    d.labels[i] = c;
    for (int f = 0; f < features; ++f) d.x[i * features + f] = r.uniform(0, 0.5f);
    d.x[i * features + c % features] += 1.0f;
  }
  return d;
}

// Softmax regression trained by plain SGD: a real, small rt::model.
class linear_softmax final : public rt::model {
 public:
  linear_softmax(std::vector<int> input, int classes, int batch, double lr = 0.5) : lr_(lr) {
    info_.input = std::move(input);
    info_.outputs = classes;
    info_.batch = batch;
    info_.summary = "dense (softmax regression)";
    for (int d : info_.input) features_ *= d;
    weight_.assign(static_cast<std::size_t>(classes) * features_, 0.0f);
    bias_.assign(classes, 0.0f);
    grad_w_.resize(weight_.size());
    grad_b_.resize(classes);
    p_.resize(classes);
    epochs_begun.reserve(100);  // so that begin_epoch() does not allocate
    tensors_ = {{"fc.weight", {classes, features_}, weight_, rt::tensor_role::param, {}},
                {"fc.bias", {classes}, bias_, rt::tensor_role::param, {}}};
  }

  const rt::model_info& info() const override { return info_; }
  std::span<const rt::tensor> tensors() const override { return tensors_; }
  void set_threads(int threads) override { threads_ = threads; }
  void begin_epoch(int epoch, long steps) override {
    epochs_begun.push_back(epoch);
    steps_per_epoch = steps;
  }
  double current_lr() const override { return lr_; }

  rt::step_result train_step(const rt::batch& b) override {
    largest_batch = std::max(largest_batch, b.n);
    ++train_steps;
    const int classes = info_.outputs;
    std::vector<float>&grad_w = grad_w_, &grad_b = grad_b_, &p = p_;  // no allocation per step
    std::fill(grad_w.begin(), grad_w.end(), 0.0f);
    std::fill(grad_b.begin(), grad_b.end(), 0.0f);
    rt::step_result r;
    for (int i = 0; i < b.n; ++i) {
      const float* x = b.x + static_cast<std::size_t>(i) * features_;
      r.loss_sum += softmax(x, p.data(), b.labels[i], r.correct);
      for (int c = 0; c < classes; ++c) {
        const float g = p[c] - (c == b.labels[i] ? 1.0f : 0.0f);
        grad_b[c] += g;
        for (int f = 0; f < features_; ++f) grad_w[c * features_ + f] += g * x[f];
      }
    }
    const float step = static_cast<float>(lr_) / static_cast<float>(b.n);
    for (std::size_t k = 0; k < weight_.size(); ++k) weight_[k] -= step * grad_w[k];
    for (int c = 0; c < classes; ++c) bias_[c] -= step * grad_b[c];
    return r;
  }

  rt::step_result eval_step(const rt::batch& b, float* outputs) override {
    std::vector<float>& p = p_;
    rt::step_result r;
    for (int i = 0; i < b.n; ++i) {
      r.loss_sum +=
          softmax(b.x + static_cast<std::size_t>(i) * features_, p.data(), b.labels[i], r.correct);
      if (outputs) std::copy(p.begin(), p.end(), outputs + static_cast<std::size_t>(i) * p.size());
    }
    return r;
  }

  // The logits (predict); eval_step gives probabilities.
  void infer(const rt::batch& b, float* outputs) override {
    const int classes = info_.outputs;
    for (int i = 0; i < b.n; ++i)
      for (int c = 0; c < classes; ++c) {
        const float* x = b.x + static_cast<std::size_t>(i) * features_;
        float z = bias_[c];
        for (int f = 0; f < features_; ++f) z += weight_[c * features_ + f] * x[f];
        outputs[static_cast<std::size_t>(i) * classes + c] = z;
      }
  }

  int threads() const { return threads_; }
  std::vector<int> epochs_begun;
  long steps_per_epoch = 0;
  long train_steps = 0;
  int largest_batch = 0;

 private:
  // Probabilities into p; returns the cross-entropy and counts a correct arg-max.
  double softmax(const float* x, float* p, int label, int& correct) const {
    const int classes = info_.outputs;
    for (int c = 0; c < classes; ++c) {
      float z = bias_[c];
      for (int f = 0; f < features_; ++f) z += weight_[c * features_ + f] * x[f];
      p[c] = z;
    }
    const float top = *std::max_element(p, p + classes);
    if (std::max_element(p, p + classes) - p == label) ++correct;
    float sum = 0;
    for (int c = 0; c < classes; ++c) sum += p[c] = std::exp(p[c] - top);
    for (int c = 0; c < classes; ++c) p[c] /= sum;
    return -std::log(std::max(p[label], 1e-30f));
  }

  rt::model_info info_;
  int features_ = 1;
  double lr_;
  int threads_ = 0;
  std::vector<float> weight_, bias_, grad_w_, grad_b_, p_;
  std::vector<rt::tensor> tensors_;
};

}  // namespace kiln::test
