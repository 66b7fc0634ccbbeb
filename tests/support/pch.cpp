// Compiles a precompiled header of the suites (tests/CMakeLists.txt); no code of its own.
