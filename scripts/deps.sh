#!/usr/bin/env bash
# Installs the Debian 12 packages kiln needs; a no-op when they are all present.
# Usage: scripts/deps.sh [extra-package ...]   (as root, or with sudo available)
set -euo pipefail
packages=(
  g++ cmake make ninja-build pkg-config
  libhwy-dev libboost-dev libboost-test-dev libopenblas-dev libdnnl-dev zlib1g-dev
  nlohmann-json3-dev libcli11-dev
  libonnx-dev libprotobuf-dev protobuf-compiler libzip-dev
  gnuplot-nox  # simd_bench --png, second_order's loss curves, the regularizer tour's plots
  libopenmpi-dev openmpi-bin
  clang-14 libclang-rt-14-dev  # the fuzz preset (libFuzzer, ASan + UBSan)
  dataset-fashion-mnist
  python3-onnx python3-numpy  # tests/export: onnx.checker; tests/own_data makes its data
  "$@"
)
# ONNX Runtime for the tests of exported graphs comes from npm (tests/export, scripts/
# onnxruntime.sh): node and npm from Debian unless a node with its own npm is there already.
command -v npm >/dev/null || packages+=(nodejs npm)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
echo "kiln: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
