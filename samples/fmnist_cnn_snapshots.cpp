// A snapshot ensemble of fmnist_cnn's model, by fast geometric ensembling (Garipov et al., 2018,
// after Huang et al.'s snapshot ensembles): one run whose learning rate falls along a cosine over
// a long first cycle, then restarts lower for short cycles (cyclic_cosine with
// .first_cycle_epochs and .restart, otherwise fmnist_cnn's plan and epochs); the weights at the
// end of each cycle are kept and their probabilities averaged. Prints the ensemble's accuracy
// (snapshot_ensemble_test_accuracy=) before the last snapshot's alone (test_accuracy=).
// Seed 0: 93.92 % against the last snapshot's 93.79 % (docs/dsl.md, "Accuracy over seeds").
// Built by kiln_add_trainer(fmnist_cnn_snapshots fmnist_cnn_snapshots.cpp PLAN snapshot_plan).
#include "fmnist_cnn.hpp"

constexpr auto snapshot_plan = training_plan{
    .optimizer = plan.optimizer,
    .regularizer = plan.regularizer,
    // 19 epochs down from the plan's lr, then 3 cycles of 2 epochs from 0.3 of it: 4 snapshots.
    .lr = cyclic_cosine{.cycle_epochs = 2, .first_cycle_epochs = plan.epochs - 6, .restart = 0.3},
    .augment = plan.augment,
    .epochs = plan.epochs,
    .batch = plan.batch,
    .ensemble = {.snapshots = true},
    .test_time = plan.test_time,
    .precision = plan.precision,
};
