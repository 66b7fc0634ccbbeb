// The regularizer tour: one small CNN trained without regularization and with each regularizer
// alone, on a reduced budget (a subset of Fashion-MNIST's training set, a few epochs), so that
// overfitting shows and each regularizer's effect on it can be compared. The variants are split
// over a few translation units (each compiles a handful of trainers, variants.hpp); main() is in
// regularizer_tour.cpp.
#pragma once

#include <kiln/runtime/data/dataset.hpp>
#include <kiln/runtime/model.hpp>

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace tour {

struct settings {
  int epochs = 12;
  int threads = 1;
  std::uint64_t seed = 0;
  std::filesystem::path out;  // <out>/<variant>/metrics.csv
  bool progress = false;
};

struct result {
  std::string name, what;
  double train_accuracy = 0, test_accuracy = 0;  // after training, evaluation mode
  double seconds_per_epoch = 0;                  // training loop, CPU time of the training thread
};

// One variant: a name, what it changes, and how to train it.
struct variant {
  std::string name, what;
  std::function<result(const std::string& name, const kiln::rt::dataset& train,
                       const kiln::rt::dataset& test, const settings&)>
      run;
};

// The epochs of one variant: training (with the plan's augmentation, in the loader thread) and
// evaluation on the test set after each; <out>/<name>/metrics.csv gets a row per epoch (fit's
// columns). The epoch time is the training thread's CPU time: the tour runs on shared machines,
// where wall time measures the neighbours too.
result run(kiln::rt::model& m, const std::string& name, const kiln::rt::dataset& train,
           const kiln::rt::dataset& test, const settings& s);

// The variants, one per translation unit (<name>.cpp), in the table's order.
variant variant_none();
variant variant_l2();
variant variant_l1();
variant variant_dropout();
variant variant_dropconnect();
variant variant_batch_norm();
variant variant_augmentation();
variant variant_fmp();
variant variant_stochastic_depth();

inline std::vector<variant> variants() {
  return {variant_none(),         variant_l2(),          variant_l1(),
          variant_dropout(),      variant_dropconnect(), variant_batch_norm(),
          variant_augmentation(), variant_fmp(),         variant_stochastic_depth()};
}

}  // namespace tour
