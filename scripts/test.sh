#!/usr/bin/env bash
# Sets everything up on Debian 12 (packages, a build) and runs the test suite with CTest.
# Usage: scripts/test.sh [preset]
#   release (default)  every test; the timing-sensitive suites again with one core kept busy; the
#                      numerics suites again on Highway's scalar target (KILN_TARGETS=SCALAR),
#                      oneDNN's AVX2 code and OpenBLAS's other kernel choice; then
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
# The suites' and samples' generated trainers for this machine's best Highway target and scalar
# only (the tests run them; a user's build, scripts/train.sh, keeps every target). AVX3_DL on
# the CPUs kiln runs on (Sapphire Rapids, Zen 4, Zen 5): the CPU flags Highway 1.0.3 asks for it.
best_target() {
  local flags f
  flags=" $(grep -m1 '^flags' /proc/cpuinfo) "
  for f in avx512f avx512vl avx512dq avx512bw avx512_vnni vpclmulqdq avx512vbmi avx512_vbmi2 \
    vaes avx512_vpopcntdq avx512_bitalg; do
    [[ "$flags" == *" $f "* ]] || { echo AVX2; return; }
  done
  echo AVX3_DL
}
narrow=()  # the sanitizer presets set their own
if [ "$preset" = release ]; then
  target=$(best_target)
  narrow=(-DKILN_SAMPLE_TARGETS="$target" -DKILN_TEST_TARGETS="$target")
fi
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
  # 2: every kernel and generated loop on Highway's scalar path (tests/support/targets.hpp: no
  # FMA, one lane), oneDNN's products on its AVX2 code (DNNL_MAX_CPU_ISA), OpenBLAS on its other
  # kernel choice (its own pick if the machine forces Haswell's, Haswell's if not): the numerics
  # suites again, and those comparing with PyTorch, ONNX Runtime or a stated accuracy. A
  # tolerance tuned to one CPU's arithmetic fails here.
  blas=(env OPENBLAS_CORETYPE=Haswell)
  [ -z "${OPENBLAS_CORETYPE:-}" ] || blas=(env -u OPENBLAS_CORETYPE)
  echo "kiln: the numerics suites again, Highway forced to scalar, oneDNN to AVX2, ${blas[*]}" >&2
  KILN_TARGETS=SCALAR DNNL_MAX_CPU_ISA=AVX2 "${blas[@]}" ctest --preset "$preset" \
    -L '^(optim|second_order|layers|codegen|io|zoo|export)$' -LE '^packaging$'
  cmake --preset fuzz -DKILN_FUZZ_SECONDS=10 "${launcher[@]}" >/dev/null
  cmake --build --preset fuzz
  ctest --preset fuzz
fi
