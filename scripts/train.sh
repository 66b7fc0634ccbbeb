#!/usr/bin/env bash
# Sets everything up on Debian 12 (packages, Release build) and trains the Fashion-MNIST MLP
# sample with its defaults. Extra arguments go to the trainer (e.g. --epochs 2, --help).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
# Every Highway target, as a user's build (scripts/test.sh may have narrowed the samples').
cmake --preset release -DKILN_SAMPLE_TARGETS= >/dev/null
cmake --build --preset release --target fmnist_mlp
exec build/release/samples/fmnist_mlp "$@"
