// Every kernel template a trainer instantiates, compiled once per Highway target in the
// trainer's translation unit (foreach_target.h can run once per TU, so they share this file).
#include "kiln/codegen/update/fused-inl.h"
