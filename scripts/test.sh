#!/usr/bin/env bash
# Sets everything up on Debian 12 (packages, Release build of everything) and runs the whole
# test suite with CTest. Usage: scripts/test.sh [preset]   (release, debug, asan-ubsan)
set -euo pipefail
cd "$(dirname "$0")/.."
preset=${1:-release}
scripts/deps.sh
cmake --preset "$preset" >/dev/null
cmake --build --preset "$preset"
ctest --preset "$preset"
