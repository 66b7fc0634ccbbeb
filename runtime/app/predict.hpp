// Running a trained model on new samples, and the standard command line's `predict` and
// `export` subcommands.
//
//   auto t = kiln::compile<model, plan>();
//   rt::standardization s = rt::load_trained(t, "out/model.safetensors");
//   rt::predictor p(t, s);                      // allocates its scratch once
//   std::vector<float> logits = p.run(x);       // any number of samples, evaluation mode
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "kiln/runtime/app/cli.hpp"
#include "kiln/runtime/data/standardize.hpp"
#include "kiln/runtime/model.hpp"

namespace kiln::rt {

// The model's outputs before its loss (a classifier's logits, a regression's predictions) for
// the samples in `x` (whole samples of info().input, features as the model takes them), in
// evaluation mode, in chunks of the model's batch: out receives samples × info().outputs floats.
// Allocates nothing. kiln::config_error when x is not whole samples or out has another size.
void predict(model& m, std::span<const float> x, std::span<float> out);
std::vector<float> predict(model& m, std::span<const float> x);  // allocates the result only

// predict() with the standardization of the model's training applied first (into a scratch of
// one batch, allocated at construction: run() allocates nothing but a returned vector).
class predictor {
 public:
  explicit predictor(model& m, standardization stats = {});
  void run(std::span<const float> x, std::span<float> out);
  std::vector<float> run(std::span<const float> x);
  std::size_t samples(std::span<const float> x) const;  // checks x is whole samples

 private:
  model& m_;
  standardization stats_;
  std::vector<float> scratch_;
};

// Rows -> the index of each row's largest value (the first of equal ones).
std::vector<std::int64_t> arg_max_rows(std::span<const float> rows, int columns);

// `NAME predict --weights FILE --input FILE --output FILE [--proba | --labels]` and
// `NAME export --weights FILE --onnx FILE`: argv starts at the subcommand. Exit codes as
// run_cli's: 0, 2 for a bad command line, 1 for anything else (one line on stderr).
int run_predict(int argc, char** argv, const model_info& defaults, const model_factory& make);
int run_export(int argc, char** argv, const model_info& defaults, const model_factory& make);

}  // namespace kiln::rt
