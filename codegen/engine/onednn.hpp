// What the engine's oneDNN sources (matmul.cpp, conv.cpp) share: the CPU engine, the threads
// oneDNN may use inside one call, and execution that flags oneDNN's own allocations. Internal:
// it includes oneDNN, so no trainer's translation unit may include it.
#pragma once

#include <oneapi/dnnl/dnnl.hpp>

namespace kiln::engine::detail {

dnnl::engine& cpu();
// Fixes the calling thread's OpenMP thread count once (1: kiln's team schedules; or
// KILN_ONEDNN_THREADS) before it creates or runs a primitive.
void pin_threads();
// dnnl_primitive_execute with inside_onednn() true for its duration.
void execute(const_dnnl_primitive_t p, dnnl_stream_t s, int nargs, const dnnl_exec_arg_t* args);

}  // namespace kiln::engine::detail
