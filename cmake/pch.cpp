// Compiles the precompiled <kiln/kiln.hpp> of the samples (CMakeLists.txt); no code of its own.
