// What data-parallel training adds to a generated trainer's step: the ranks it trains with,
// and the hook into the backward pass. Each rank's gradients are summed over the ranks, either
// layer by layer as soon as a layer's backward pass is done (overlap: MPI_Iallreduce while the
// layers before it run) or as one sum of the gradient arena after the backward pass. A rank whose
// part of the loss is not finite puts a NaN into the gradients it sends, so that every rank finds
// the fault in the sums and all decide alike (none waits in a collective for the others).
#pragma once

#include <cstddef>
#include <limits>
#include <span>

#include "kiln/core/comm.hpp"
#include "kiln/core/error.hpp"

namespace kiln::codegen {

class data_parallel {
 public:
  // The ranks of `c` (rt::fit sets them); nullptr or one rank: alone. Full-batch plans refuse.
  void set_comm(const rt::comm* c, bool full_batch) {
    if (full_batch && c && c->distributed())
      throw config_error("data-parallel",
                         "full-batch plans (lbfgs, newton_cg) train in one process");
    comm_ = c && c->distributed() ? c : nullptr;
  }
  void set_overlap(bool overlap) { overlap_ = overlap; }

  // Training with several ranks.
  const rt::comm* ranks() const { return comm_; }
  // The ranks while a data-parallel step runs its layers (batch_norm exchanges its statistics
  // too), else nullptr.
  const rt::comm* in_step() const { return step_comm_; }

  // A data-parallel step starts its layers.
  void begin() { step_comm_ = comm_; }
  // This rank's part of the loss is not finite: the gradients it sends carry a NaN.
  void set_poison(bool poison) { poison_ = poison; }

  // A layer's backward pass has written its gradients `gw` (overlap): their sum starts now.
  void layer_done(std::span<float> gw) const {
    if (overlap_ && step_comm_) {
      if (poison_) gw[0] = std::numeric_limits<float>::quiet_NaN();
      step_comm_->start_sum(gw, "the gradients");
    }
  }
  // Between layers: lets MPI move the data of the sums started.
  void progress() const {
    if (overlap_ && step_comm_) step_comm_->progress("the gradients");
  }

  // After the backward pass: the sums finished (overlap) or the whole gradient arena from the
  // first layer that trains summed in one go (`from`: empty when no layer trains).
  void end(std::span<float> from) {
    if (overlap_) comm_->finish("the gradients");
    step_comm_ = nullptr;
    if (!overlap_ && !from.empty()) {
      if (poison_) from[0] = std::numeric_limits<float>::quiet_NaN();
      comm_->sum(from, "the gradients");
    }
    poison_ = false;
  }

 private:
  const rt::comm* comm_ = nullptr;       // data-parallel training's ranks (set_comm)
  const rt::comm* step_comm_ = nullptr;  // comm_ while a data-parallel step runs its layers
  bool overlap_ = false;                 // trainer_options::overlap
  bool poison_ = false;  // this rank's loss is not finite: its gradients tell the other ranks
};

}  // namespace kiln::codegen
