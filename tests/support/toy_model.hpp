// A model of two tensors (and one optimizer-state tensor) for checkpoints: what fuzz_checkpoint
// loads into and what fuzz_seeds saves from. No computation; only the checkpoint interface.
#pragma once

#include <vector>

#include "kiln/runtime/model.hpp"

namespace kiln::fuzz {

class toy_model final : public rt::model {
 public:
  toy_model() : weight_(12, 0.5f), bias_(3, -1.0f), momentum_(12, 0.0f) {
    info_.input = {4};
    info_.outputs = 3;
    info_.batch = 8;
    tensors_ = {{"fc.weight", {3, 4}, weight_, rt::tensor_role::param, "0.weight"},
                {"fc.bias", {3}, bias_, rt::tensor_role::param, "0.bias"},
                {"fc.weight.momentum_buffer", {3, 4}, momentum_, rt::tensor_role::state, {}}};
  }
  const rt::model_info& info() const override { return info_; }
  std::span<const rt::tensor> tensors() const override { return tensors_; }
  void set_threads(int) override {}
  void begin_epoch(int, long) override {}
  double current_lr() const override { return 0.1; }
  rt::step_result train_step(const rt::batch&) override { return {}; }
  rt::step_result eval_step(const rt::batch&, float*) override { return {}; }
  std::string fingerprint() const override { return "toy"; }
  rt::resume_state save_resume_state() const override { return state_; }
  void load_resume_state(const rt::resume_state& s) override { state_ = s; }

 private:
  rt::model_info info_;
  std::vector<float> weight_, bias_, momentum_;
  std::vector<rt::tensor> tensors_;
  rt::resume_state state_{7, {1, 2, 3, 4}};
};

}  // namespace kiln::fuzz
