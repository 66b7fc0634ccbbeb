// simd_bench's parts: the command line, timing and report (simd_bench.cpp); the generated loops
// of the benchmarked plans (simd_bench_loops.cpp); the no-math loop with the same streams
// (simd_bench_stream.cpp); the plain scalar loops, compiled with -fno-math-errno
// (simd_bench_scalar.cpp). Each compiles on its own, in a few seconds.
#pragma once

#include <kiln/dsl/dsl.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace simd_bench {

using namespace kiln::dsl;

// The benchmarked plans: PyTorch's benchmark set (names and hyperparameters of
// ../shared/peers/torch_optim_bench.py), the variants with more state, and two fused
// optimizer + regularizer combinations; last, SGD and Adam with skip_step, whose loops carry no
// finiteness check (stop_run's, the default, is in every other plan): the check's cost.
inline constexpr std::size_t row = 1000;  // max_norm's row length in the benchmark
template <auto... Plans>
struct plan_list {};
using plans =
    plan_list<training_plan{.optimizer = sgd{.lr = 1e-3}},
              training_plan{.optimizer = sgd{.lr = 1e-3, .weight_decay = 1e-4}},
              training_plan{.optimizer = sgd{.lr = 1e-3, .momentum = 0.9}},
              training_plan{.optimizer = sgd{.lr = 1e-3, .momentum = 0.9, .nesterov = true}},
              training_plan{.optimizer = adagrad{.lr = 1e-2}},
              training_plan{.optimizer = rmsprop{.lr = 1e-3}},
              training_plan{.optimizer = rmsprop{.lr = 1e-3, .momentum = 0.9, .centered = true}},
              training_plan{.optimizer = adam{.lr = 1e-3}},
              training_plan{.optimizer = adam{.lr = 1e-3, .amsgrad = true}},
              training_plan{.optimizer = adamw{.lr = 1e-3, .weight_decay = 1e-2}},
              training_plan{.optimizer = adam{.lr = 1e-3},
                            .regularizer = clip_value{1.0} + l2{1e-4} + l1{1e-5}},
              training_plan{.optimizer = sgd{.lr = 1e-3, .momentum = 0.9},
                            .regularizer = max_norm{3.0}},
              training_plan{.optimizer = sgd{.lr = 1e-3}, .nonfinite = skip_step{}},
              training_plan{.optimizer = adam{.lr = 1e-3}, .nonfinite = skip_step{}}>;
inline constexpr const char* names[] = {"SGD",
                                        "SGD_wd",
                                        "SGD_mom",
                                        "SGD_nesterov",
                                        "Adagrad",
                                        "RMSprop",
                                        "RMSprop_centered_mom",
                                        "Adam",
                                        "Adam_amsgrad",
                                        "AdamW",
                                        "Adam+clip+l2+l1",
                                        "SGD_mom+max_norm",
                                        "SGD_unchecked",
                                        "Adam_unchecked"};

// One tensor (or one thread's part of it): parameters, gradients, optimizer state.
struct tensor {
  float* p = nullptr;
  const float* g = nullptr;
  float* s[3]{};
  std::size_t n = 0;
};

struct plan_info {
  std::string name;
  int states = 0;     // state vectors: the loop streams 2 + states arrays in, 1 + states out
  bool rows = false;  // a row constraint: threads split at row boundaries
};

std::vector<plan_info> plan_infos();
std::vector<std::pair<std::string, std::int64_t>> targets();  // compiled and supported, best first

// The generated fused loop of plan `i` on one target (step: the 1-based step count).
void update(std::size_t i, std::int64_t target, const tensor& t, long step);
// The same plan as a plain scalar loop (the formulas of codegen/update/<name>.hpp).
void scalar(std::size_t i, const tensor& t, long step);
// p += g and s_k += g: the streams of a plan with `states` state vectors, no math.
void stream(int states, std::int64_t target, const tensor& t);

}  // namespace simd_bench
