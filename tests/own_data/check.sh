#!/usr/bin/env bash
# Installs kiln from BUILD_DIR, builds tests/own_data against it out of tree, and uses its two
# trainers as a user would: train from CSV (classifier) and from npz (regression) through the
# standard command line, predict, export to ONNX, run the graph with ONNX Runtime, and check
# that data which does not fit a model is refused in one line before training.
# Usage: check.sh BUILD_DIR SOURCE_DIR WORK_DIR PYTHON RUN_ONNX "CXX_FLAGS" "LINKER_FLAGS"
set -euo pipefail
build=$1 source=$2 work=$3 python=$4 run_onnx=$5 cxx_flags=${6:-} linker_flags=${7:-}
rm -rf "$work"
mkdir -p "$work/data"
prefix=$work/prefix
fail() { echo "own_data: $*" >&2; exit 1; }

cmake --install "$build" --prefix "$prefix" >/dev/null
cmake -S "$source" -B "$work/build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$prefix" "-DCMAKE_CXX_FLAGS=$cxx_flags" \
  "-DCMAKE_EXE_LINKER_FLAGS=$linker_flags" >/dev/null
cmake --build "$work/build" >/dev/null
classifier=$work/build/sensor_classifier regressor=$work/build/curve_regressor
"$python" "$source/make_data.py" "$work/data"
d=$work/data

# The classifier, from CSV: the label column by name, standardized (raw readings span ±60).
"$classifier" --train "$d/sensors.csv" --test "$d/sensors_test.csv.gz" --label-column species \
  --standardize --seed 1 --out "$work/c" --quiet >"$work/c.out"
accuracy=$(sed -n 's/^test_accuracy=//p' "$work/c.out")
[ -n "$accuracy" ] || fail "the classifier printed no test_accuracy: $(cat "$work/c.out")"
"$classifier" predict --weights "$work/c/model.safetensors" --input "$d/sensors_test.csv.gz" \
  --label-column species --output "$work/c_logits.npy" --quiet >/dev/null
"$classifier" predict --weights "$work/c/model.safetensors" --input "$d/sensors_test.csv.gz" \
  --label-column species --labels --output "$work/c_labels.csv" --quiet >/dev/null
"$classifier" export --weights "$work/c/model.safetensors" --onnx "$work/c.onnx" >/dev/null

# The regression, from npz (float64 features, float32 targets [N, 2]).
"$regressor" --train "$d/curves.npz" --test "$d/curves_test.npz" --standardize --seed 1 \
  --out "$work/r" --quiet >"$work/r.out"
mse=$(sed -n 's/^test_mse=//p' "$work/r.out")
[ -n "$mse" ] || fail "the regression printed no test_mse: $(cat "$work/r.out")"
"$regressor" predict --weights "$work/r/model.safetensors" --input "$d/curves_test.npz" \
  --output "$work/r_pred.npy" --quiet >/dev/null
"$regressor" export --weights "$work/r/model.safetensors" --onnx "$work/r.onnx" >/dev/null

# Both graphs through onnx.checker and ONNX Runtime, fed the raw features (the graphs
# standardize); predictions against the files' truth and against kiln's predict.
"$python" - "$work" "$d" "$accuracy" "$mse" "$run_onnx" "$source" <<'EOF'
import csv, gzip, sys
import numpy as np
import onnx

work, d, accuracy, mse, run_onnx, source = sys.argv[1:7]
rows = list(csv.reader(gzip.open(f"{d}/sensors_test.csv.gz", "rt")))[1:]
truth = np.array([int(r[2]) for r in rows])
features = np.array([[float(v) for i, v in enumerate(r) if i != 2] for r in rows], np.float32)
labels = np.loadtxt(f"{work}/c_labels.csv", skiprows=1, dtype=np.int64)
# predict runs the weights on the same batches as the run's evaluation: the same labels, and the
# accuracy printed with %.4f, half a unit of its last decimal away.
assert abs((labels == truth).mean() - float(accuracy)) <= 5e-5 + 1e-12, (labels == truth).mean()
assert float(accuracy) > 0.85, f"classifier accuracy {accuracy}"
test = np.load(f"{d}/curves_test.npz")
pred = np.load(f"{work}/r_pred.npy")
assert pred.shape == (500, 2) and pred.dtype == np.float32
# The same predictions; kiln sums the squared errors in double, and so does this line: the same
# terms in another order, 1000·2^-53 relative at most; %.6g prints the figure within 5e-6 of
# itself.
assert abs(((pred.astype(np.float64) - test["y"]) ** 2).mean() - float(mse)) <= (5e-6 + 1e-12) * float(mse)
assert float(mse) < 0.1 * test["y"].var(), f"regression mse {mse}, variance {test['y'].var()}"

# Each output within the rounding walk of its graph (tests/support/onnx_walk.py: standardization,
# dense layers, ReLU, tanh with both sides' approximations).
sys.path.insert(0, f"{source}/../support")
import onnx_walk
bound = lambda model, x: onnx_walk.bound(model, x, work, run_onnx)

def onnx_runtime(model, x, name):
    onnx.checker.check_model(onnx.load(model), full_check=True)
    return onnx_walk.onnx_runtime(model, x, f"{work}/{name}", run_onnx)

c = onnx_runtime(f"{work}/c.onnx", features, "c")
c_bound = bound(f"{work}/c.onnx", features)
assert c_bound.shape == c.shape
assert (np.abs(c - np.load(f"{work}/c_logits.npy")) <= c_bound).all()
# The regression's predictions: the same walk, through tanh.
r_x = test["x"].astype(np.float32)
r = onnx_runtime(f"{work}/r.onnx", r_x, "r")
r_bound = bound(f"{work}/r.onnx", r_x)
assert r_bound.shape == r.shape
assert (np.abs(r - pred) <= r_bound).all(), np.abs(r - pred).max()
print(f"own_data: the regression within {(np.abs(r - pred) / r_bound).max():.2f} of its bounds")
print(f"own_data: classifier test_accuracy={accuracy}, regression test_mse={mse} "
      f"(target variance {test['y'].var():.3f}); ONNX Runtime within "
      f"{max(np.abs(c - np.load(work + '/c_logits.npy')).max(), np.abs(r - pred).max()):.2g}")
EOF

# Data that does not fit a model: exit 1, one line naming the file, before any training.
refused() {
  local expected=$1; shift
  set +e
  "$@" >"$work/refused.out" 2>"$work/refused.err"
  local code=$?
  set -e
  [ "$code" -eq 1 ] || fail "exit $code, not 1: $*"
  [ "$(wc -l <"$work/refused.err")" -eq 1 ] || fail "not one line: $(cat "$work/refused.err")"
  grep -qF "$expected" "$work/refused.err" || fail "'$expected' not in: $(cat "$work/refused.err")"
  ! grep -q epoch "$work/refused.err" || fail "trained before refusing: $*"
}
refused "$d/sensors.csv: 5 feature columns (7 columns, 2 of them labels) do not fill the model's input 8" \
  "$regressor" --train "$d/sensors.csv" --test "$d/sensors.csv"
refused "$d/curves.npz: array 'x' is 2000x8: 8 values per sample do not fill the model's input 6" \
  "$classifier" --train "$d/curves.npz" --val-split 0.2
refused "$d/float_labels.npz: array 'y' holds F32 values; a classifier takes integer class labels" \
  "$classifier" --train "$d/float_labels.npz" --val-split 0.2 --quiet
refused "$work/r/model.safetensors: tensor 'kiln.standardize.mean' has 8 features, the model's input 6" \
  "$classifier" predict --weights "$work/r/model.safetensors" --input "$d/sensors.csv" \
  --label-column species --output "$work/x.npy"
echo "own_data: every mismatch refused"
