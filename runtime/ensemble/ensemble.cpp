#include "kiln/runtime/ensemble/ensemble.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <string>
#include <thread>

#include "kiln/core/error.hpp"
#include "kiln/runtime/io/import.hpp"

namespace kiln::rt {
namespace {

// The probabilities of one classifier on all of `test`, n × classes.
std::vector<float> probabilities_of(model& m, const dataset& test, int batch) {
  const int classes = m.info().outputs;
  if (m.info().batch > 0) batch = std::min(batch, m.info().batch);  // its buffers' size
  if (batch < 1) throw config_error("batch", "must be at least 1");
  const std::size_t n = test.size(), sample = test.sample_size();
  std::vector<float> logits(static_cast<std::size_t>(batch) * classes), out(n * classes);
  for (std::size_t first = 0; first < n; first += static_cast<std::size_t>(batch)) {
    const int count = static_cast<int>(std::min<std::size_t>(batch, n - first));
    m.eval_step({count, test.x.data() + first * sample, test.labels.data() + first, nullptr},
                logits.data());
    softmax_rows(logits.data(), count, classes, out.data() + first * classes);
  }
  return out;
}

double accuracy_of(std::span<const int> predictions, const dataset& test) {
  long right = 0;
  for (std::size_t i = 0; i < predictions.size(); ++i) right += predictions[i] == test.labels[i];
  return predictions.empty() ? 0 : double(right) / double(predictions.size());
}

std::vector<int> arg_max_rows(const float* p, int n, int classes) {
  std::vector<int> out(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) {
    const float* row = p + std::size_t(i) * classes;
    out[static_cast<std::size_t>(i)] = static_cast<int>(std::max_element(row, row + classes) - row);
  }
  return out;
}

ensemble_result evaluate(std::vector<float> all, int members, const dataset& test, int classes) {
  const int n = static_cast<int>(test.size());
  ensemble_result r;
  const combined c = combine(all, members, n, classes);
  for (int k = 0; k < members; ++k) {
    const std::span<const int> predicted(c.member_prediction.data() + std::size_t(k) * n,
                                         std::size_t(n));
    r.member_accuracy.push_back(accuracy_of(predicted, test));
    r.mean_member_accuracy += r.member_accuracy.back() / members;
  }
  r.accuracy = accuracy_of(c.average_prediction, test);
  r.vote_accuracy = accuracy_of(c.vote_prediction, test);
  long unanimous = 0;
  std::vector<long> right_by(std::size_t(members) + 1, 0);
  for (int i = 0; i < n; ++i) {
    bool same = true;
    int right = 0;
    for (int k = 0; k < members; ++k) {
      const int y = c.member_prediction[std::size_t(k) * n + i];
      same = same && y == c.member_prediction[std::size_t(i)];
      right += y == test.labels[std::size_t(i)];
    }
    unanimous += same;
    ++right_by[std::size_t(right)];
  }
  r.unanimous = double(unanimous) / n;
  r.any_member_accuracy = double(n - right_by[0]) / n;
  for (const long count : right_by) r.right_by.push_back(double(count) / n);
  return r;
}

void require_classifier(const model& m, const dataset& test, int classes) {
  if (m.info().kind != task::classify || m.info().outputs != classes)
    throw config_error("ensemble", "members must be classifiers with the same classes");
  if (test.labels.size() != test.size() || test.size() == 0)
    throw config_error(test.name.empty() ? "test data" : test.name, "needs labelled samples");
}

}  // namespace

std::string members_right(const ensemble_result& r) {
  std::string out;
  char share[32];
  for (const double v : r.right_by) {
    std::snprintf(share, sizeof share, "%s%.4f", out.empty() ? "" : ",", v);
    out += share;
  }
  return out;
}

void softmax_rows(const float* logits, int n, int classes, float* probabilities) {
  for (int i = 0; i < n; ++i) {
    const float* z = logits + std::size_t(i) * classes;
    float* p = probabilities + std::size_t(i) * classes;
    const float top = *std::max_element(z, z + classes);
    double sum = 0;
    for (int c = 0; c < classes; ++c) sum += std::exp(double(z[c]) - top);
    for (int c = 0; c < classes; ++c) p[c] = static_cast<float>(std::exp(double(z[c]) - top) / sum);
  }
}

combined combine(std::span<const float> probabilities, int members, int n, int classes) {
  const std::size_t block = std::size_t(n) * classes;
  if (members < 1 || probabilities.size() != block * members)
    throw config_error("ensemble", "expected " + std::to_string(members) + " blocks of " +
                                       std::to_string(block) + " probabilities");
  combined c;
  c.mean_probability.assign(block, 0.0f);
  std::vector<int> votes(block, 0);
  for (int k = 0; k < members; ++k) {
    const float* p = probabilities.data() + k * block;
    for (std::size_t j = 0; j < block; ++j) c.mean_probability[j] += p[j] / float(members);
    const auto predicted = arg_max_rows(p, n, classes);
    for (int i = 0; i < n; ++i) ++votes[std::size_t(i) * classes + predicted[std::size_t(i)]];
    c.member_prediction.insert(c.member_prediction.end(), predicted.begin(), predicted.end());
  }
  c.average_prediction = arg_max_rows(c.mean_probability.data(), n, classes);
  c.vote_prediction.resize(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) {
    const int* v = votes.data() + std::size_t(i) * classes;
    const float* p = c.mean_probability.data() + std::size_t(i) * classes;
    int best = 0;
    for (int k = 1; k < classes; ++k)
      if (v[k] > v[best] || (v[k] == v[best] && p[k] > p[best])) best = k;
    c.vote_prediction[std::size_t(i)] = best;
  }
  return c;
}

ensemble_result evaluate_ensemble(std::span<model* const> members, const dataset& test, int batch) {
  if (members.empty()) throw config_error("ensemble", "has no members");
  const int classes = members[0]->info().outputs;
  std::vector<float> all;
  for (model* m : members) {
    require_classifier(*m, test, classes);
    const auto p = probabilities_of(*m, test, batch);
    all.insert(all.end(), p.begin(), p.end());
  }
  return evaluate(std::move(all), static_cast<int>(members.size()), test, classes);
}

ensemble_result evaluate_ensemble(const comm& c, std::span<model* const> mine,
                                  std::span<const int> ids, int members, const dataset& test,
                                  int batch) {
  if (members < 1) throw config_error("ensemble", "has no members");
  if (ids.size() != mine.size())
    throw config_error("ensemble", std::to_string(mine.size()) + " members but " +
                                       std::to_string(ids.size()) + " member numbers");
  // Every rank must know the classes, including one holding no member.
  std::uint64_t classes = mine.empty() ? 0 : std::uint64_t(mine[0]->info().outputs);
  for (const std::uint64_t k : c.gather(classes, "the ensemble's classes")) classes |= k;
  const std::size_t block = test.size() * classes;
  std::vector<float> all(block * std::size_t(members), 0.0f);
  for (std::size_t i = 0; i < mine.size(); ++i) {
    require_classifier(*mine[i], test, int(classes));
    if (ids[i] < 0 || ids[i] >= members)
      throw config_error("ensemble", "member " + std::to_string(ids[i]) + " of " +
                                         std::to_string(members) + " does not exist");
    const auto p = probabilities_of(*mine[i], test, batch);
    std::copy(p.begin(), p.end(), all.begin() + std::ptrdiff_t(block * std::size_t(ids[i])));
  }
  // Zeros elsewhere: each sum adds one member's value to zeros, exactly.
  c.sum(std::span(all), "the members' probabilities");
  return evaluate(std::move(all), members, test, int(classes));
}

ensemble_result evaluate_snapshots(model& m, std::span<const tensor_file> snapshots,
                                   const dataset& test, int batch) {
  if (snapshots.empty()) throw config_error("snapshots", "none were taken");
  const int classes = m.info().outputs;
  require_classifier(m, test, classes);
  std::vector<float> all;
  for (const tensor_file& s : snapshots) {
    load_weights(m, s);
    const auto p = probabilities_of(m, test, batch);
    all.insert(all.end(), p.begin(), p.end());
  }
  return evaluate(std::move(all), static_cast<int>(snapshots.size()), test, classes);
}

std::vector<fit_result> fit_members(std::span<model* const> members, const dataset& train,
                                    const dataset* test, const fit_options& options, int parallel,
                                    std::span<const int> ids) {
  if (parallel < 1) throw config_error("parallel", "must be at least 1");
  if (!ids.empty() && ids.size() != members.size())
    throw config_error("ensemble", std::to_string(members.size()) + " members but " +
                                       std::to_string(ids.size()) + " member numbers");
  std::vector<fit_result> results(members.size());
  std::vector<std::exception_ptr> errors(members.size());
  const auto train_member = [&](std::size_t i) {
    const std::size_t k = ids.empty() ? i : std::size_t(ids[i]);
    try {
      fit_options o = options;
      o.seed = options.seed + k;
      if (parallel > 1) o.progress = false;
      // Each member's files in a folder of its own: OUT/member<k>/metrics.csv, ...
      const std::string folder = std::string("member").append(std::to_string(k));
      if (!o.out_dir.empty()) o.out_dir /= folder;
      if (!o.checkpoint.empty())
        o.checkpoint = o.checkpoint.parent_path() / folder / o.checkpoint.filename();
      // Data-parallel members: their rank 0 writes the files.
      if (!o.checkpoint.empty() && (!o.ranks || o.ranks->rank() == 0)) {
        std::error_code ec;
        std::filesystem::create_directories(o.checkpoint.parent_path(), ec);
        if (ec)
          throw file_error(o.checkpoint.parent_path().string(),
                           "cannot create the folder: " + ec.message());
      }
      results[i] = fit(*members[i], train, test, o);
    } catch (...) {
      errors[i] = std::current_exception();
    }
  };
  if (parallel == 1) {
    for (std::size_t k = 0; k < members.size(); ++k) train_member(k);
  } else {
    // Thread counts are set here, before any member runs: the GEMM library's is process-wide.
    for (model* m : members) m->set_threads(1);
    for (std::size_t first = 0; first < members.size(); first += std::size_t(parallel)) {
      std::vector<std::thread> running;
      for (std::size_t k = first; k < std::min(members.size(), first + parallel); ++k)
        running.emplace_back(train_member, k);
      for (auto& t : running) t.join();
    }
  }
  for (const auto& e : errors)
    if (e) std::rethrow_exception(e);
  return results;
}

int parallel_members(int members) {
  const int cores = std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  return std::max(1, std::min(members, cores));
}

}  // namespace kiln::rt
