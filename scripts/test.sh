#!/usr/bin/env bash
# Sets everything up on Debian 12 (packages, a build) and runs the test suite with CTest.
# Usage: scripts/test.sh [preset]
#   release (default)  every test, then each reader's fuzz target for 60 s (the fuzz preset)
#   asan-ubsan         every test under AddressSanitizer + UndefinedBehaviorSanitizer (the suites
#                      and what they run: no samples, no compile-fail or packaging test)
#   tsan               the threaded suites (loader, fit, ensembles, threaded steps) under TSan
#   debug, fuzz        that preset alone
set -euo pipefail
cd "$(dirname "$0")/.."
preset=${1:-release}
scripts/deps.sh
# ccache, when installed, keeps what was compiled for the next run (a contributor's rebuilds);
# the precompiled headers need its pch_defines and time_macros sloppiness.
launcher=()
if command -v ccache >/dev/null; then
  launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  export CCACHE_SLOPPINESS=${CCACHE_SLOPPINESS:-pch_defines,time_macros,include_file_mtime,include_file_ctime}
fi
cmake --preset "$preset" "${launcher[@]}" >/dev/null
cmake --build --preset "$preset"
ctest --preset "$preset"
if [ "$preset" = release ]; then
  cmake --preset fuzz -DKILN_FUZZ_SECONDS=60 "${launcher[@]}" >/dev/null
  cmake --build --preset fuzz
  ctest --preset fuzz
fi
