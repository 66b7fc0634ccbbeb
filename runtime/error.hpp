// kiln's exceptions now live in core/ (shared by every layer). This forwarding header keeps
// the runtime's readers (runtime/io, runtime/data) and users' includes compiling.
#pragma once

#include "kiln/core/error.hpp"
