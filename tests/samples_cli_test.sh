#!/usr/bin/env bash
# The samples' command lines (samples/common/command_line.hpp, a facade over CLI11): bad values
# refused in one line naming the flag, --help, and a sample's own usage errors.
# Usage: samples_cli_test.sh CNN_BENCH FMNIST_CNN_ENSEMBLE
set -u
bench=$1 ensemble=$2
failures=0
# expect STATUS TEXT COMMAND...: the command exits with STATUS and its output holds TEXT.
expect() {
  local status=$1 text=$2
  shift 2
  local out
  out=$("$@" 2>&1)
  local got=$?
  if [ "$got" -ne "$status" ] || [[ "$out" != *"$text"* ]]; then
    echo "FAIL: $* exited $got (expected $status), output:"
    echo "$out" | head -5
    echo "(expected to contain: $text)"
    failures=$((failures + 1))
  fi
}
expect 105 "--threads: must be positive, got 0" "$bench" --threads 0
expect 105 "--threads: must be a number, got 'x'" "$bench" --threads 1,x
expect 105 "--repeats: must be positive, got -1" "$bench" --repeats -1
expect 105 "--precision: f16 not in {f32,bf16}" "$bench" --precision f16
expect 0 "--precision TEXT:{f32,bf16}=f32" "$bench" --help
expect 106 "weights is required" "$ensemble"
expect 2 "an ensemble needs at least 2 weight files, got 1" "$ensemble" one.safetensors
expect 105 "--threads: must be positive, got 0" "$ensemble" --threads 0 a b
expect 1 "no-such-file.safetensors" "$ensemble" --data /usr/share/datasets/fashion-mnist \
  no-such-file.safetensors other.safetensors
expect 0 "weights TEXT ... REQUIRED" "$ensemble" --help
if [ "$failures" -ne 0 ]; then
  echo "$failures failure(s)"
  exit 1
fi
echo "samples' command lines: all checks passed"
