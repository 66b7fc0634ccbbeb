// The target-independent half of every update stage (per-step scalars, formulas). Adding an
// optimizer or a regularizer: its <name>.hpp beside these and one include here (and its
// <name>-inl.h in stages-inl.h).
#pragma once

#include "kiln/codegen/update/adagrad.hpp"
#include "kiln/codegen/update/adam.hpp"
#include "kiln/codegen/update/adamw.hpp"
#include "kiln/codegen/update/clip.hpp"
#include "kiln/codegen/update/l1.hpp"
#include "kiln/codegen/update/l2.hpp"
#include "kiln/codegen/update/max_norm.hpp"
#include "kiln/codegen/update/rmsprop.hpp"
#include "kiln/codegen/update/sgd.hpp"
#include "kiln/codegen/update/update.hpp"
