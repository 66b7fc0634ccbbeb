#!/usr/bin/env bash
# Installs ONNX Runtime for node (npm's onnxruntime-node, CPU library inside the package) into a
# cache folder shared by every build tree, once; the tests of exported graphs run it
# (tests/export/). Test set-up only: nothing at build time needs it.
# Usage: scripts/onnxruntime.sh DIR   -> DIR/node_modules/onnxruntime-node
set -euo pipefail
dir=${1:?usage: scripts/onnxruntime.sh DIR}
version=1.31.1
installed="$dir/node_modules/onnxruntime-node/package.json"
if [ -f "$installed" ] && grep -q "\"version\": \"$version\"" "$installed"; then
  exit 0
fi
command -v npm >/dev/null || { echo "kiln: npm is missing (scripts/deps.sh installs it)" >&2; exit 1; }
mkdir -p "$dir"
# --ignore-scripts: the package's postinstall would download more; the CPU build is inside.
npm install --prefix "$dir" --ignore-scripts --no-audit --no-fund --loglevel=error \
  "onnxruntime-node@$version" >&2
test -f "$installed"
