#!/usr/bin/env bash
# Sets everything up on Debian 12 (packages, a build) and runs the test suite with CTest.
# Usage: scripts/test.sh [preset]
#   release (default)  every test, then each reader's fuzz target for 60 s (the fuzz preset)
#   asan-ubsan         every test under AddressSanitizer + UndefinedBehaviorSanitizer
#   tsan               the threaded suites (loader, fit, ensembles, threaded steps) under TSan
#   debug, fuzz        that preset alone
set -euo pipefail
cd "$(dirname "$0")/.."
preset=${1:-release}
scripts/deps.sh
cmake --preset "$preset" >/dev/null
cmake --build --preset "$preset"
ctest --preset "$preset"
if [ "$preset" = release ]; then
  cmake --preset fuzz -DKILN_FUZZ_SECONDS=60 >/dev/null
  cmake --build --preset fuzz
  ctest --preset fuzz
fi
