// A snapshot ensemble (Huang et al., 2017) of fmnist_cnn's model: one run whose learning rate
// restarts every cycle_epochs epochs (cyclic cosine, otherwise fmnist_cnn's plan), the weights at
// the end of each cycle kept, and their probabilities averaged. Prints the ensemble's accuracy
// (snapshot_ensemble_test_accuracy=) before the last snapshot's alone (test_accuracy=).
// Built by kiln_add_trainer(fmnist_cnn_snapshots fmnist_cnn_snapshots.cpp PLAN snapshot_plan).
#include "fmnist_cnn.hpp"

constexpr auto snapshot_plan = training_plan{
    .optimizer = plan.optimizer,
    .regularizer = plan.regularizer,
    .lr = cyclic_cosine{.cycle_epochs = plan.epochs / 3},
    .augment = plan.augment,
    .epochs = plan.epochs / 3 * 3,
    .batch = plan.batch,
    .ensemble = {.snapshots = true},
    .test_time = plan.test_time,
    .precision = plan.precision,
};
