// Any dataset for a model, in one call: the standard command line's --data / --train / --test and
// the options beside them, read, checked against the model, split and standardized.
//
//   rt::data_spec spec{.train = "houses.csv", .label_column = "price", .val_split = 0.2,
//                      .standardize = true};
//   rt::loaded_data d = rt::load_dataset(spec, trainer.info());
//   trainer.fit(d.train, d.test);
//
// Sources (the format from the extension or, for a folder, the files it holds):
//   .csv, .csv.gz  numbers, an optional header row (the first row when it holds no number); the
//                  label column(s) by header name or 0-based index (default: the last column, or
//                  the last `outputs` columns of a regression model); the other columns, in file
//                  order, fill the model's input row-major (C·H·W: a CSV can feed a conv model)
//   .npz           `x` [N, ...] (uint8, float32 or float64) whose per-sample size is the model's
//                  input, `y` integer labels [N] (classifier) or float targets [N] / [N, outputs]
//   folder         an MNIST-family IDX folder (train-images-idx3-ubyte[.gz], train-labels-…,
//                  t10k-images-…, t10k-labels-…) or CIFAR-10's binary batches (data_batch_1.bin
//                  … data_batch_5.bin, test_batch.bin; also inside cifar-10-batches-bin/)
// uint8 values are scaled by 1/255 as read; float values are used as given.
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>

#include "kiln/runtime/data/dataset.hpp"
#include "kiln/runtime/data/standardize.hpp"
#include "kiln/runtime/model.hpp"

namespace kiln::rt {

struct data_spec {
  std::filesystem::path dir;          // --data: IDX or CIFAR-10 folder (default: Fashion-MNIST's)
  std::filesystem::path train, test;  // --train / --test: .csv, .csv.gz or .npz (instead of dir)
  std::string label_column;           // --label-column: a header name, an index, or a,b,c
  std::string x_key = "x", y_key = "y";  // --x-key / --y-key: the npz arrays
  double val_split = 0;      // --val-split: hold out this fraction of `train` as the test set
  std::uint64_t seed = 0;    // which samples the split holds out
  bool standardize = false;  // --standardize: per-feature (x − mean) / std from the training set
};

struct loaded_data {
  dataset train, test;
  standardization stats;  // empty unless spec.standardize
  std::string source;     // for logs: where the samples came from
};

// Reads what `spec` names for `model` (its input shape, outputs and task), checks every sample
// against it, holds out the validation split, and standardizes. Every mismatch is one line: a
// kiln::file_error naming the file (and the line and field, or the array) or a kiln::config_error
// naming the option -- a feature count that does not fill the input, a label outside the
// model's classes, a non-numeric or empty cell, ragged rows, a missing array, a dtype kiln does
// not take, NaN or infinite values, an empty file, a test set whose width differs from the
// training set's.
loaded_data load_dataset(const data_spec& spec, const model_info& model);

// One file's samples for `model`. answers: with labels or targets (training), or features only
// (predict: the CSV's --label-column, when given, is dropped; .npy holds the features alone).
dataset read_dataset_file(const std::filesystem::path& file, const data_spec& spec,
                          const model_info& model, bool answers = true);
// The same from a file's bytes (gzip told by its magic); `path` names it in messages.
dataset parse_csv_dataset(std::span<const std::uint8_t> bytes, const std::string& path,
                          const data_spec& spec, const model_info& model, bool answers = true);
dataset parse_npz_dataset(std::span<const std::uint8_t> bytes, const std::string& path,
                          const data_spec& spec, const model_info& model, bool answers = true);

// An IDX or CIFAR-10 folder's training and test sets, checked against `model`.
train_test read_dataset_folder(const std::filesystem::path& dir, const model_info& model);

}  // namespace kiln::rt
