#!/usr/bin/env bash
# The standard command line under mpirun -np 2 (Fashion-MNIST from the Debian package):
# data-parallel training and resuming, distributed ensembles, and failures: a rank killed or
# stopped mid-run must end the job with a clear message, leaving the last checkpoint usable.
# Usage: cli_test.sh TRAINER MPIRUN [MPIRUN-ARGS...]   (mpirun's arguments up to the program)
set -uo pipefail
trainer=$1
shift
mpirun=("$@")
work=$(mktemp -d "${TMPDIR:-/tmp}/kiln-dp-cli-XXXXXX")
trap 'rm -rf "$work"' EXIT
failures=0

fail() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}
expect() {  # expect WHAT FILE PATTERN: FILE holds an (extended) regex match
  grep -Eq -- "$3" "$2" || { fail "$1: no '$3' in $2:"; sed 's/^/    /' "$2" | tail -20 >&2; }
}
count() { grep -Ec -- "$2" "$1"; }

# --- a short data-parallel run, resumed ------------------------------------------------------
"${mpirun[@]}" "$trainer" --data-parallel --epochs 1 --max-steps 120 --out "$work/run" \
  >"$work/run.out" 2>"$work/run.err"
code=$?
[ $code -eq 0 ] || fail "data-parallel run exited with $code"
expect "rank lines" "$work/run.err" "kiln: data-parallel, rank 0 of 2 on .* \(pid [0-9]+\)"
expect "rank lines" "$work/run.err" "kiln: data-parallel, rank 1 of 2 on .* \(pid [0-9]+\)"
expect "stop message" "$work/run.err" "stopped after 120 steps"
[ -f "$work/run/checkpoint.safetensors" ] || fail "no checkpoint after --max-steps"
"${mpirun[@]}" "$trainer" --data-parallel --overlap --epochs 1 --out "$work/run" \
  --resume "$work/run/checkpoint.safetensors" >"$work/resume.out" 2>"$work/resume.err"
code=$?
[ $code -eq 0 ] || fail "resumed run exited with $code"
[ "$(count "$work/resume.out" '^test_accuracy=0\.[0-9]{4}$')" -eq 1 ] ||
  fail "the resumed run must print test_accuracy once (rank 0): $(cat "$work/resume.out")"
[ "$(wc -l <"$work/run/metrics.csv")" -eq 2 ] || fail "metrics.csv: header and one epoch"
[ -f "$work/run/model.safetensors" ] || fail "no model.safetensors"

# --- refusals ----------------------------------------------------------------------------------
"${mpirun[@]}" "$trainer" --epochs 1 >"$work/plain.out" 2>"$work/plain.err"
code=$?
[ $code -ne 0 ] || fail "mpirun without --data-parallel must be refused"
expect "refusal" "$work/plain.err" "started by mpirun with several ranks: add --data-parallel"

# --- a distributed ensemble equals the one trained in one process -----------------------------
"${mpirun[@]}" "$trainer" --data-parallel --members 3 --epochs 1 --batch 256 --out "$work/ens" \
  --quiet >"$work/ens.out" 2>"$work/ens.err"
code=$?
[ $code -eq 0 ] || { fail "distributed ensemble exited with $code"; cat "$work/ens.err" >&2; }
"$trainer" --members 3 --epochs 1 --batch 256 --quiet >"$work/ens1.out" 2>"$work/ens1.err"
if ! diff "$work/ens.out" "$work/ens1.out" >&2; then
  fail "a distributed ensemble must print what the ensemble in one process prints"
fi
for k in 0 1 2; do
  [ -f "$work/ens/member$k/model.safetensors" ] || fail "no member$k/model.safetensors"
done

# --- a rank dies: the job ends, the checkpoint stays valid -------------------------------------
# Starts a run in the background and waits for its first checkpoint (or its end: a run that
# fails early is reported by the caller); sets pid and rank1. No time limit here: however slow
# the machine, the checkpoint comes, and a hang is CTest's timeout.
start_run() {  # start_run NAME ARGS...
  local name=$1
  shift
  "${mpirun[@]}" "$trainer" --data-parallel --epochs 2 --out "$work/$name" \
    --checkpoint-every 50 "$@" >"$work/$name.out" 2>"$work/$name.err" &
  pid=$!
  while [ ! -f "$work/$name/checkpoint.safetensors" ] && kill -0 "$pid" 2>/dev/null; do
    sleep 0.1
  done
  rank1=$(sed -nE 's/.*rank 1 of 2 on .* \(pid ([0-9]+)\).*/\1/p' "$work/$name.err" | head -1)
}
# Waits at most $1 seconds for the job; sets code (124: still running, then killed). The limit
# tells a job that never ends (the failure under test) from one that ends: generous, so that a
# loaded machine's slow teardown is not taken for the first.
wait_job() {
  for _ in $(seq $(($1 * 10))); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    kill -9 "$pid" 2>/dev/null
    [ -n "$rank1" ] && kill -9 "$rank1" 2>/dev/null
    code=124
    wait "$pid" 2>/dev/null
  else
    wait "$pid"
    code=$?
  fi
}

start_run killed
if [ -z "$rank1" ] || [ ! -f "$work/killed/checkpoint.safetensors" ]; then
  fail "the killed-rank run did not start"
else
  kill -9 "$rank1"
  wait_job 120
  [ $code -ne 124 ] || fail "a killed rank left the job running"
  [ $code -ne 0 ] || fail "a killed rank must fail the job"
  expect "killed rank" "$work/killed.err" "rank 1 .*(exited on signal 9|Killed)"
  "${mpirun[@]}" "$trainer" --data-parallel --epochs 1 --quiet \
    --resume "$work/killed/checkpoint.safetensors" >"$work/again.out" 2>"$work/again.err"
  code=$?
  [ $code -eq 0 ] || { fail "the checkpoint of the killed run does not resume ($code)"; cat "$work/again.err" >&2; }
  expect "resumed after a kill" "$work/again.out" "^test_accuracy="
fi

# --- a rank hangs: the watchdog ends the job with a message ------------------------------------
# The watchdog's limit is wall time by nature: 20 s, far beyond what a rank waits for the other
# in a healthy run on a loaded machine (at start-up each waits for the other's data to load:
# 2 s sufficed on an idle machine, not beside other builds), and the stop below comes only
# after the first checkpoint, when both ranks are training.
start_run stopped --mpi-timeout 20
if [ -z "$rank1" ]; then
  fail "the stopped-rank run did not start"
else
  kill -STOP "$rank1"
  wait_job 120
  kill -9 "$rank1" 2>/dev/null  # mpirun ends it; this only makes sure
  [ $code -ne 124 ] || fail "a stopped rank left the job running"
  [ $code -ne 0 ] || fail "a stopped rank must fail the job"
  expect "watchdog" "$work/stopped.err" \
    "rank 0 of 2 .*: [a-z]+ of .* has waited [0-9]+ s for the other ranks; one of them has died or hangs"
fi

[ $failures -eq 0 ] && echo "all data-parallel command-line checks passed"
exit $((failures > 0))
