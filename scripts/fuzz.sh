#!/usr/bin/env bash
# Long fuzzing runs: builds the fuzz preset (clang 14, libFuzzer, ASan + UBSan) and runs every
# reader's target -- or the ones named -- for SECONDS each, two at a time (one per core).
# The corpus each run grows is kept in build/fuzz/tests/fuzz/corpus/<reader> and reused next
# time; a finding (crash, sanitizer report, leak, timeout, allocation past -malloc_limit_mb)
# fails the run and leaves its input in build/fuzz/tests/fuzz/findings/.
# Usage: scripts/fuzz.sh [SECONDS] [READER...]   (default 600 s; readers: idx cifar10 csv npy
#        npz safetensors onnx checkpoint). CI runs the same targets for 20 s (scripts/test.sh).
# Replay a finding: build/fuzz/tests/fuzz/fuzz_<reader> build/fuzz/tests/fuzz/findings/<file>
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-600}
shift || true
scripts/deps.sh
cmake --preset fuzz -DKILN_FUZZ_SECONDS="$seconds" >/dev/null
cmake --build --preset fuzz
filter=()
if [ $# -gt 0 ]; then
  filter=(-R "^fuzz_($(IFS='|'; echo "$*"))\$")
fi
log=build/fuzz/fuzz-$(date +%Y%m%d-%H%M%S).log
status=0
ctest --preset fuzz -V "${filter[@]}" >"$log" 2>&1 || status=$?
# One line per target: how long it ran, how many inputs, and the verdict.
awk '
  /^[0-9]+: Test command: .*fuzz_/ { n = $1; sub(":", "", n); split($4, p, "/"); name[n] = p[length(p)] }
  /^[0-9]+: Done [0-9]+ runs in [0-9]+ second/ { n = $1; sub(":", "", n); runs[n] = $3; secs[n] = $6 }
  /Test +#[0-9]+: fuzz_/ { verdict[$4] = ($0 ~ /Passed/) ? "no finding" : "FINDING (see the log)" }
  END { for (n in name) printf "%-18s %6s s  %10s runs  %s\n", name[n], secs[n], runs[n], verdict[name[n]] }
' "$log" | sort
echo "log: $log"
exit $status
