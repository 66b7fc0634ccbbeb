// The type-erased view of a generated trainer. The runtime (data loading, fitting, evaluation,
// checkpoints, ...) sees a model only through this interface, never through its template.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "kiln/runtime/data/augment.hpp"
#include "kiln/core/batch.hpp"
#include "kiln/core/comm.hpp"
#include "kiln/core/error.hpp"
#include "kiln/runtime/io/onnx_graph.hpp"
#include "kiln/runtime/tensor.hpp"

namespace kiln::rt {

enum class task { classify, regress };

// What a model consumes and produces, and the defaults its plan declares.
struct model_info {
  std::vector<int> input;  // shape of one sample: {784} or {1, 28, 28}
  int outputs = 0;         // logits (classify) or regression targets per sample
  task kind = task::classify;
  int batch = 64;  // plan defaults; the command line may override them
  int epochs = 1;
  std::uint64_t seed = 0;
  std::string summary;  // one line per layer, for logs
  // The plan's ensemble entry (dsl/ensemble.hpp), for the runtime that trains and combines.
  int members = 1;          // models from the seeds seed, seed+1, ...
  bool vote = false;        // majority vote instead of averaged probabilities
  int snapshot_epochs = 0;  // > 0: a snapshot of the weights every this many epochs ...
  int snapshot_first = 0;   // ... after the first one at this epoch (0: snapshot_epochs)
  bool averaged = false;    // keeps a moving average of its weights (swap_averaged_weights)

  // The plan's optimizer takes whole-dataset steps (lbfgs, newton_cg): fit() calls
  // full_batch_step once per epoch instead of train_step per mini-batch, and `batch` is the
  // chunk the data is evaluated in.
  bool full_batch = false;
};

// Whether a snapshot ensemble keeps the weights after `epoch` (1-based: epochs done), the end of
// one of its learning-rate cycles.
inline bool ends_snapshot_cycle(const model_info& i, int epoch) {
  if (i.snapshot_epochs <= 0) return false;
  const int first = i.snapshot_first > 0 ? i.snapshot_first : i.snapshot_epochs;
  return epoch >= first && (epoch - first) % i.snapshot_epochs == 0;
}

// What a checkpoint needs beyond the tensors to continue a run bit-identically.
struct resume_state {
  long steps = 0;                      // train_step calls so far (schedules, bias corrections)
  std::array<std::uint64_t, 4> rng{};  // the generator of dropout masks and other training noise
  std::vector<double> schedule;        // a learning-rate schedule's own state (reduce_on_plateau)
  // skip_step: the factor skipped steps left on the learning rate, and how many in a row.
  double fault_lr = 1;
  long skipped_in_a_row = 0;
  // The Highway target of each parameter tensor's update loop, comma-separated: a resumed run
  // uses the same loops (their rounding can differ between vector widths). Empty: not recorded.
  std::string update_loops;
};

// What an epoch measured, reported to the model after it (NaN: not measured). Schedules that
// react to it (reduce-on-plateau) use it.
struct epoch_metrics {
  double train_loss = 0, train_accuracy = 0;
  double test_loss = 0, test_accuracy = 0;
};

class model {
 public:
  virtual ~model() = default;
  virtual const model_info& info() const = 0;
  // Parameters first (declaration order), then optimizer state, then buffers.
  virtual std::span<const tensor> tensors() const = 0;
  // Threads for the compute kernels (GEMM). Results are bit-identical for a fixed count.
  virtual void set_threads(int threads) = 0;
  // Called before each epoch: learning-rate schedules work on (epoch, step). `epoch` is 0-based;
  // steps_per_epoch is how many train_step calls the epoch makes (the last may be partial).
  virtual void begin_epoch(int epoch, long steps_per_epoch) = 0;
  // Learning rate the next step will use (after schedule), for logs; NaN when the optimizer has
  // none (newton_cg).
  virtual double current_lr() const = 0;
  // Called after each epoch's evaluation with what it measured.
  virtual void end_epoch(const epoch_metrics&) {}
  // The augmentation its plan declares for training samples (fit runs it in the loader thread).
  virtual augment_plan augmentation() const { return {}; }
  // Forward, backward and the fused update. n <= the batch size the model was built for.
  virtual step_result train_step(const batch& b) = 0;
  // Forward in evaluation mode. When outputs is not null it receives n * info().outputs floats.
  virtual step_result eval_step(const batch& b, float* outputs) = 0;
  // The same without labels or targets (predict): n * info().outputs floats, the outputs before
  // the loss, into `outputs`. Changes nothing.
  virtual void infer(const batch& b, float* outputs) {
    (void)b, (void)outputs;
    throw config_error("predict", "this model cannot run without labels");
  }
  // Its evaluation-mode computation as ONNX nodes from the tensor named `input`; returns the
  // name of the output (runtime/io/onnx_export.hpp). A layer with no ONNX form: config_error.
  virtual std::string to_onnx(onnx_graph& g, const std::string& input) const {
    (void)g, (void)input;
    throw config_error("export", "this model has no ONNX form");
  }

  // Checkpoints. `fingerprint` identifies the model and its plan (a checkpoint refuses to load
  // into another); the resume state is what tensors() does not hold. A model without them
  // (the defaults) still saves and loads its tensors.
  virtual std::string fingerprint() const { return {}; }
  virtual resume_state save_resume_state() const { return {}; }
  virtual void load_resume_state(const resume_state&) {}

  // Polyak averaging: exchanges the weights with their moving average (info().averaged), so
  // that what runs between two calls is the averaged model. False when the model keeps none.
  virtual bool swap_averaged_weights() { return false; }

  // Data-parallel training (rt::fit with a communicator of several ranks; null: alone again):
  // train_step then takes this rank's part of each global batch (batch::offset, batch::total),
  // and the model makes every rank's update the whole batch's (summing gradients over the
  // ranks). A model that cannot refuses.
  virtual void set_comm(const comm* c) {
    if (c && c->distributed())
      throw config_error("data-parallel", "this model does not support data-parallel training");
  }

  // Full-batch models (info().full_batch): one optimizer step over all of `data` (chunks of at
  // most info().batch samples, in a fixed order), which the model evaluates as often as its
  // method needs. Returns the data's summed loss and correct count where the step started.
  virtual step_result full_batch_step(std::span<const batch> data) {
    (void)data;
    throw config_error("optimizer", "this model trains in mini-batches, not full batch");
  }
};

}  // namespace kiln::rt
