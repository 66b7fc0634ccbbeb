#!/usr/bin/env bash
# Data-parallel step time, 1 rank against 2, in alternating rounds (README, "Data-parallel
# training"): medians over the rounds of dp_bench's per-step medians.
# Usage: scripts/bench_dp.sh [rounds] [build-dir] [extra mpirun arguments...]
set -euo pipefail
rounds=${1:-5}
build=${2:-build/release}
shift $(($# < 2 ? $# : 2))
bench=$build/samples/dp_bench
mpirun=(mpirun -np 2 --oversubscribe)
[ "$(id -u)" -eq 0 ] && mpirun+=(--allow-run-as-root)
log=$(mktemp)
trap 'rm -f "$log"' EXIT
for model in mlp cnn; do
  steps=$([ $model = mlp ] && echo 500 || echo 60)
  for _ in $(seq "$rounds"); do
    "$bench" --model $model --steps "$steps" --repeats 1 >>"$log"
    "${mpirun[@]}" "$@" "$bench" --model $model --steps "$steps" --repeats 1 >>"$log"
  done
done
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
# Per (model, ranks), medians over the rounds of: step, its CPU time, compute, exchange, the
# shard step alone, its CPU time, the gradient allreduce alone.
sed -E 's/^([a-z]+) ranks=([0-9]+) .*step ([0-9.]+) ms \(CPU ([0-9.]+)\) = compute ([0-9.]+) \+ exchange ([0-9.]+) \| alone: shard step ([0-9.]+) ms \(CPU ([0-9.]+)\), gradient allreduce ([0-9.]+) ms.*/\1 \2 \3 \4 \5 \6 \7 \8 \9/' "$log" |
  sort -k1,1 -k2,2n |
  awk '
    function med(k,   i, j, t, a) {
      for (i = 1; i <= n; i++) a[i] = v[k, i]
      for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j-1] > a[j]; j--) { t = a[j]; a[j] = a[j-1]; a[j-1] = t }
      return n % 2 ? a[(n+1)/2] : (a[n/2] + a[n/2+1]) / 2
    }
    function flush() {
      if (n) printf "%-4s ranks=%s  step %7.3f ms (CPU %7.3f) = compute %7.3f + exchange %7.3f | alone: shard step %7.3f (CPU %7.3f), allreduce %6.3f  (%d rounds)\n",
        key1, key2, med(3), med(4), med(5), med(6), med(7), med(8), med(9), n
      n = 0
    }
    { if ($1 != key1 || $2 != key2) { flush(); key1 = $1; key2 = $2 }
      n++; for (k = 3; k <= 9; k++) v[k, n] = $k }
    END { flush() }'
