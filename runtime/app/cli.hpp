// The standard command line of a trainer built with kiln_add_trainer() (CLI11).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include "kiln/runtime/model.hpp"

namespace kiln::rt {

struct run_options {
  std::filesystem::path data_dir;  // an IDX or CIFAR-10 folder; default: $KILN_FASHION_MNIST or
                                   // /usr/share/datasets/fashion-mnist
  // Or files, and how to read them (runtime/data/load.hpp: data_spec).
  std::filesystem::path train, test;
  std::string label_column, x_key = "x", y_key = "y";
  double val_split = 0;
  bool standardize = false;
  std::filesystem::path init_from;  // start from these weights (any format kiln imports)
  bool init_lenient = false;        // load what matches, list the rest (default: strict)
  int epochs = 0;                   // 0: the plan's value
  int batch = 0;
  std::uint64_t seed = 0;
  bool seed_set = false;
  int threads = 1;
  std::filesystem::path out_dir;  // metrics.csv, checkpoint.safetensors, model.safetensors
  bool progress = true;
  long checkpoint_every = 0;     // steps between checkpoints (0: after every epoch only)
  std::filesystem::path resume;  // continue the run saved in this checkpoint
  long max_steps = 0;            // stop (and checkpoint) after this many steps; 0: no limit
  int members = 1;               // ensemble members (the plan's ensemble{.members} by default)
  // Across the ranks of mpirun: one model trained data-parallel, or ensemble members placed on
  // ranks (runtime/parallel/distributed.hpp).
  bool data_parallel = false;
  double mpi_timeout = 0;  // seconds a collective may wait for the other ranks; 0: comm's default
  bool overlap = false;    // each layer's gradient sum overlaps the backward pass (trainer_options)
  // The products' number format, "f32" or "bf16"; empty: the plan's. A trainer built for one plan
  // accepts its own; kiln::run<Model, Plan, true> compiles both (samples' --precision).
  std::string precision;
};

// Builds the model once the command line is known (the seed and batch size shape it).
using model_factory = std::function<std::unique_ptr<model>(const run_options&)>;

// Parses argv, loads the data, trains, evaluates, and prints `test_accuracy=<value>` (a
// classifier) or `test_mse=<value>` (a regression) as the last line on stdout. `NAME predict
// ...` and `NAME export ...` run the subcommands of runtime/app/predict.hpp instead. Returns the
// process exit code: 0 on success, 2 on a bad command line, 1 on any other error (the message
// goes to stderr as one line).
int run_cli(int argc, char** argv, const model_info& defaults, const model_factory& make);

}  // namespace kiln::rt
