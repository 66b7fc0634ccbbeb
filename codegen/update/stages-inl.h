// The vector body of every update stage, for the target being compiled. Adding an optimizer or a
// regularizer: its <name>-inl.h beside these and one include here (and its <name>.hpp in
// stages.hpp).
#include "kiln/codegen/update/adagrad-inl.h"
#include "kiln/codegen/update/adam-inl.h"
#include "kiln/codegen/update/adamw-inl.h"
#include "kiln/codegen/update/clip-inl.h"
#include "kiln/codegen/update/l1-inl.h"
#include "kiln/codegen/update/l2-inl.h"
#include "kiln/codegen/update/rmsprop-inl.h"
#include "kiln/codegen/update/sgd-inl.h"
