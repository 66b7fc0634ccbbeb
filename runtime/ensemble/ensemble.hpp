// Ensembles through the type-erased view: K members trained side by side (one thread each, or
// in turn), snapshots of one run, and how their predictions are combined.
#pragma once

#include <span>
#include <string>
#include <vector>

#include "kiln/runtime/data/dataset.hpp"
#include "kiln/runtime/io/tensor_file.hpp"
#include "kiln/runtime/model.hpp"
#include "kiln/core/comm.hpp"
#include "kiln/runtime/train/fit.hpp"

namespace kiln::rt {

// Row-wise softmax of n × classes logits (max-subtracted, in double).
void softmax_rows(const float* logits, int n, int classes, float* probabilities);

// The combination of K members' probabilities, each a block of n × classes floats.
struct combined {
  std::vector<float> mean_probability;  // n × classes: the members' average
  std::vector<int> average_prediction;  // arg-max of the average
  std::vector<int> vote_prediction;     // the class most members predict; ties go to the
                                        // higher average probability, then the lower class
  std::vector<int> member_prediction;   // members × n: each member's arg-max
};
combined combine(std::span<const float> probabilities, int members, int n, int classes);

struct ensemble_result {
  std::vector<double> member_accuracy;  // each member alone
  double mean_member_accuracy = 0;
  double accuracy = 0;       // averaged probabilities
  double vote_accuracy = 0;  // majority vote
  // How much the members disagree, which bounds what combining them can gain: the share of
  // samples on which every member predicts the same class (there the vote is that class), and
  // the share that at least one member gets right (no vote can do better).
  double unanimous = 0;
  double any_member_accuracy = 0;
  // [k], k = 0 … K: the share of samples that exactly k members get right. The mean member is
  // Σ k·right_by[k] / K; a majority vote wins the samples with more than K/2 right (and may win
  // those with fewer); so this says how much combining can gain, and where.
  std::vector<double> right_by;
};

// right_by as printed after `members_right=`: "0.0392,0.0105,…" (k = 0 … K, 4 decimals).
std::string members_right(const ensemble_result& r);

// Evaluates classifiers with the same input and classes on `test`, alone and combined, in
// batches of at most `batch` (and at most each member's own).
ensemble_result evaluate_ensemble(std::span<model* const> members, const dataset& test, int batch);

// A distributed ensemble (members placed on ranks, rt::place_members): each rank passes the
// members it holds (`mine`, member numbers `ids`, of `members` in all; nothing on a rank that
// shares a member with a lower one of its group). The probabilities are summed over the ranks,
// every member's block coming from one rank, so every rank gets what evaluate_ensemble over all
// the members in one process gives. Collective.
ensemble_result evaluate_ensemble(const comm& c, std::span<model* const> mine,
                                  std::span<const int> ids, int members, const dataset& test,
                                  int batch);

// A snapshot ensemble: each weight set (rt::snapshot of the model at the end of a cycle) is
// loaded into `m` in turn and evaluated; `m` is left holding the last one.
ensemble_result evaluate_snapshots(model& m, std::span<const tensor_file> snapshots,
                                   const dataset& test, int batch);

// Trains every member with `options`, member k with the loader seed options.seed + k (each
// member's own seed drives its initialization). `parallel` members run at once, one thread
// each (their kernels single-threaded: set_threads(1)); 1 trains them in turn with the threads
// they have. Progress output is off for parallel members. Member k's metrics and checkpoints
// go to a folder member<k> beside where options put them. An error in any member is rethrown
// after all have stopped. `ids`: the members' numbers k when they are not 0, 1, ... (a
// distributed ensemble's share on this rank).
std::vector<fit_result> fit_members(std::span<model* const> members, const dataset& train,
                                    const dataset* test, const fit_options& options, int parallel,
                                    std::span<const int> ids = {});

// The members that fit side by side on this machine: one per core, at most `members`.
int parallel_members(int members);

}  // namespace kiln::rt
