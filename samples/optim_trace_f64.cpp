// optim_trace's float64 loops (see optim_trace_loops.hpp).
#include "optim_trace_loops.hpp"

template void optim_trace::trace<double>(const any_optimizer&, const options&);
