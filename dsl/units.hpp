// Every unit of kiln, one line each: the only list a new optimizer, regularizer, layer or
// learning-rate schedule is added to (one line before the list's end). Each name is a file:
// dsl/<part>/<name>.hpp (the descriptors), and for optimizers, regularizers and layers its
// generated half, codegen/update/<name>.hpp + <name>-inl.h or codegen/layers/<name>.hpp; each
// optimizer has its test tests/optim/<name>_test.cpp (tests/CMakeLists.txt reads these lists, one
// name a line: hence clang-format off). An optimizer's name is also its descriptor's type.
// docs/contributing.md says what each file holds.
#pragma once

// clang-format off
// First-order optimizers: a fused update per tensor, every step (dsl/optim/, codegen/update/).
#define KILN_OPTIMIZERS \
  (sgd)                 \
  (adagrad)             \
  (rmsprop)             \
  (adam)                \
  (adamw)               \
  (adamax)              \
  (nadam)               \
  /* end of the list */

// Full-batch optimizers: a solver over the whole training set (dsl/optim/, codegen/second_order/).
#define KILN_FULL_BATCH_OPTIMIZERS \
  (lbfgs)                          \
  (newton_cg)                      \
  /* end of the list */

// Regularizers and constraints (dsl/regularize/, codegen/update/).
#define KILN_REGULARIZERS \
  (clip)                  \
  (l1)                    \
  (l2)                    \
  (max_norm)              \
  /* end of the list */

// Layers (dsl/layers/, codegen/layers/).
#define KILN_LAYERS       \
  (activation)            \
  (batch_norm)            \
  (conv)                  \
  (dense)                 \
  (dropconnect)           \
  (dropout)               \
  (flatten)               \
  (fractional_max_pool)   \
  (gelu)                  \
  (layer_norm)            \
  (loss)                  \
  (pool)                  \
  (residual)              \
  /* end of the list */

// Learning-rate schedules beyond constant_lr and step_decay (dsl/lr/schedules.hpp).
#define KILN_SCHEDULES \
  (cosine)             \
  (cyclic_cosine)      \
  (exponential)        \
  (inverse_time)       \
  (plateau)            \
  (warmup)             \
  /* end of the list */
// clang-format on
