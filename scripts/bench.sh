#!/usr/bin/env bash
# Every comparison of the README's Performance section in one run, on this machine, with its CPU
# and load printed first: the core's matmul peak (oneDNN f32 and bf16 against OpenBLAS at the
# models' shapes), the MLP and CNN epochs against their FLOP-bound time in f32 and bf16, threads
# on an idle and on a loaded core (a busy loop on one core), oneDNN's own OpenMP threads instead
# of kiln's team, the optimizer steps and ensembles. Each table is the benchmark program's own
# output (ratios measured in one run, medians). With python3-torch, scripts/bench_mlp.py,
# bench_cnn.py and bench_optim.py add PyTorch's side.
#
#   scripts/bench.sh [build dir, default build/release] [--quick] [--out DIR]
#
# --quick: fewer repeats (a check that everything runs, not figures to quote). --out: where the
# epochs' JSON and their chart (epochs.png: epoch time against the FLOP-bound lines of the f32 and
# bf16 peaks, scripts/epoch_plot.py) go; default <build dir>/bench.
set -euo pipefail
cd "$(dirname "$0")/.."
build=build/release
repeats=5
out=
while [ $# -gt 0 ]; do
  case $1 in
    --quick) repeats=1 ;;
    --out) [ $# -ge 2 ] || { echo "bench.sh: --out needs a folder" >&2; exit 2; }; out=$2; shift ;;
    -*) echo "usage: scripts/bench.sh [build dir] [--quick] [--out DIR]" >&2; exit 2 ;;
    *) build=$1 ;;
  esac
  shift
done
out=${out:-$build/bench}
mkdir -p "$out"
s=$build/samples
# The figures are a user's build: every Highway target (scripts/test.sh compiles the samples for
# the suites' targets only, KILN_SAMPLE_TARGETS).
if grep -qs '^KILN_SAMPLE_TARGETS:STRING=.' "$build/CMakeCache.txt"; then
  echo "bench.sh: $build compiles the samples for some targets only (KILN_SAMPLE_TARGETS, set by" \
       "scripts/test.sh); reconfigure with -DKILN_SAMPLE_TARGETS= and rebuild" >&2
  exit 1
fi
for b in gemm_probe mlp_bench cnn_bench simd_bench ensemble; do
  [ -x "$s/$b" ] || { echo "bench.sh: $s/$b is not built (cmake --build $build --target $b)" >&2; exit 1; }
done

echo "== machine"
grep -m1 "model name" /proc/cpuinfo | sed 's/.*: //'
echo "cores: $(nproc); load average: $(cut -d' ' -f1-3 /proc/loadavg)"
grep -qw avx512_bf16 /proc/cpuinfo && echo "AVX512_BF16: yes" || echo "AVX512_BF16: no (bf16 plans run in f32)"
echo "OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset}"

echo; echo "== matmul peak: oneDNN against OpenBLAS, 1 thread (gemm_probe)"
"$s/gemm_probe" --repeats $((repeats * 2 - 1))

for m in mlp cnn; do
  for p in f32 bf16; do
    echo "${m}_bench, $p, 1 and 2 threads ..." >&2
    "$s/${m}_bench" --threads 1,2 --repeats "$repeats" --precision "$p" --json >"$out/${m}_$p.json"
  done
done
echo; echo "== MLP and CNN epochs against their FLOP-bound time (mlp_bench, cnn_bench; chart $out/epochs.png)"
python3 scripts/epoch_plot.py --out "$out/epochs.png" "$out"/mlp_f32.json "$out"/mlp_bf16.json \
  "$out"/cnn_f32.json "$out"/cnn_bf16.json

echo; echo "== oneDNN's OpenMP threads instead of kiln's team: MLP, team of 1, 2 OpenMP threads"
KILN_ONEDNN_THREADS=2 OMP_WAIT_POLICY=passive "$s/mlp_bench" --threads 1 --repeats "$repeats" --only kiln
KILN_ONEDNN_THREADS=2 OMP_WAIT_POLICY=active "$s/mlp_bench" --threads 1 --repeats "$repeats" --only kiln

echo; echo "== one core busy with another process (a busy loop): MLP 1 and 2 threads"
(while :; do :; done) &
busy=$!
trap 'kill $busy 2>/dev/null || true' EXIT
"$s/mlp_bench" --threads 1,2 --repeats "$repeats" --only kiln
"$s/cnn_bench" --threads 1,2 --repeats "$repeats"
kill $busy; trap - EXIT

echo; echo "== optimizer steps at 1e7 parameters (simd_bench; *: the target a trainer picks)"
"$s/simd_bench" --sizes 1e7 --threads 1,2 --rounds "$repeats" --no-scalar

echo; echo "== ensembles: 2 members on 2 cores against 1 (ensemble --timing-epochs 3: one 0.4 s epoch is mostly start-up)"
"$s/ensemble" --members 2 --timing-only --timing-epochs 3
