// Every regularizer and constraint the DSL offers, and `+` to compose them. Adding one: its
// descriptor beside these and one include here.
#pragma once

#include "kiln/dsl/regularize/clip.hpp"
#include "kiln/dsl/regularize/compose.hpp"
#include "kiln/dsl/regularize/l1.hpp"
#include "kiln/dsl/regularize/l2.hpp"
#include "kiln/dsl/regularize/max_norm.hpp"
