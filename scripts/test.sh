#!/usr/bin/env bash
# Sets everything up on Debian 12 (packages, a build) and runs the test suite with CTest.
# Usage: scripts/test.sh [preset]
#   release (default)  every test; the timing-sensitive suites again with one core kept busy; the
#                      numerics suites again on Highway's AVX2 target (KILN_TARGETS=AVX2) and
#                      OpenBLAS's other kernel choice (OPENBLAS_CORETYPE); then
#                      each reader's fuzz target for 10 s, two at a time (the fuzz preset;
#                      scripts/fuzz.sh runs them longer)
#   asan-ubsan         the suites under AddressSanitizer + UndefinedBehaviorSanitizer, and what
#                      they run; not the samples alone, the compile-fail and packaging tests, nor the
#                      EVERY_TARGET suites (they compare arithmetic, which the release run does)
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
# The samples' generated trainers for the suites' targets only (the tests run them; a user's
# build, scripts/train.sh, keeps every target). The sanitizer presets set their own.
narrow=()
[ "$preset" = release ] && narrow=(-DKILN_SAMPLE_TARGETS="AVX3_DL;AVX2")
cmake --preset "$preset" "${launcher[@]}" "${narrow[@]}" >/dev/null
cmake --build --preset "$preset"
ctest --preset "$preset"
if [ "$preset" = release ]; then
  # The same machine as another profile. 1: the other core busy, the suites that depend on
  # timing (crash, MPI, the prefetching loader and fit, ensembles side by side) run again beside
  # a busy loop of the script's own (ended with them, or after 20 minutes at most).
  timeout 1200 sh -c 'while :; do :; done' &
  load=$!
  trap 'kill "$load" 2>/dev/null || true' EXIT
  echo "kiln: the timing-sensitive suites again, one core kept busy (pid $load)" >&2
  ctest --preset "$preset" -L '^(crash|parallel|runtime|ensemble)$'
  kill "$load"
  wait "$load" 2>/dev/null || true
  trap - EXIT
  # 2: every kernel and generated loop on Highway's AVX2 path (tests/support/targets.hpp),
  # oneDNN's products on its AVX2 code (DNNL_MAX_CPU_ISA), OpenBLAS on its other kernel choice
  # (its own pick if the machine forces Haswell's, Haswell's if not): the numerics suites again,
  # and those comparing with PyTorch, ONNX Runtime or a stated accuracy. A tolerance tuned to one
  # CPU's arithmetic fails here.
  blas=(env OPENBLAS_CORETYPE=Haswell)
  [ -z "${OPENBLAS_CORETYPE:-}" ] || blas=(env -u OPENBLAS_CORETYPE)
  echo "kiln: the numerics suites again, Highway and oneDNN forced to AVX2, ${blas[*]}" >&2
  KILN_TARGETS=AVX2 DNNL_MAX_CPU_ISA=AVX2 "${blas[@]}" ctest --preset "$preset" \
    -L '^(optim|second_order|layers|codegen|io|zoo|export)$' -LE '^packaging$'
  cmake --preset fuzz -DKILN_FUZZ_SECONDS=10 "${launcher[@]}" >/dev/null
  cmake --build --preset fuzz
  ctest --preset fuzz
fi
