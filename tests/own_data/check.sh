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
"$python" - "$work" "$d" "$accuracy" "$mse" "$run_onnx" <<'EOF'
import csv, gzip, subprocess, sys
import numpy as np
import onnx

work, d, accuracy, mse, run_onnx = sys.argv[1:6]
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

def onnx_runtime(model, x, name):
    onnx.checker.check_model(onnx.load(model), full_check=True)
    np.save(f"{work}/{name}_in.npy", x)
    subprocess.run(["node", run_onnx, model, f"{work}/{name}_in.npy", f"{work}/{name}_ort.npy"],
                   check=True)
    return np.load(f"{work}/{name}_ort.npy")

def tanh_error_of_onnx_runtime(a):
    # ONNX Runtime states no error for its tanh (MLAS's rational approximation): measured here on
    # 2^20 evenly spaced float32 points over [-a, a] and their next floats, against tanh in
    # double of the same float input. Returns the largest absolute error.
    grid = np.linspace(-a, a, 1 << 20, dtype=np.float32)
    grid = np.concatenate([grid, np.nextafter(grid, np.float32(np.inf))])
    x = onnx.helper.make_tensor_value_info("input", onnx.TensorProto.FLOAT, [grid.size])
    y = onnx.helper.make_tensor_value_info("logits", onnx.TensorProto.FLOAT, [grid.size])
    g = onnx.helper.make_graph([onnx.helper.make_node("Tanh", ["input"], ["logits"])], "tanh",
                               [x], [y])
    onnx.save(onnx.helper.make_model(g, opset_imports=[onnx.helper.make_opsetid("", 13)]),
              f"{work}/tanh.onnx")
    t = onnx_runtime(f"{work}/tanh.onnx", grid, "tanh")
    return float(np.abs(t.astype(np.float64) - np.tanh(grid.astype(np.float64))).max())

def bound(model, x):
    # How far ONNX Runtime's outputs may lie from kiln's: 6σ of the random walk of the roundings
    # (as in tests/support/rounding_walk.hpp, a sum of K terms and a bias 2u²M²(K + 2)/3, two
    # orders) through the graph's standardization (Sub, Div: kiln may multiply by 1/std instead,
    # two roundings each), dense layers, ReLU and tanh, plus, worst case and carried apart, the
    # two tanh approximations' own errors: kiln's (Highway's Tanh, 4 ulp stated) and ONNX
    # Runtime's (measured above), each passed on through |tanh'| and |W|. The features start
    # with a float's last bit: kiln parses the CSV text to float, this script to double and
    # then to float.
    from onnx import numpy_helper
    g = onnx.load(model).graph
    w = {t.name: numpy_helper.to_array(t).astype(np.float64) for t in g.initializer}
    u = 2.0 ** -24
    rounding = lambda m, k: 2 * u * u * m * m * (k + 2) / 3
    v = x.astype(np.float64)
    var = (u * v) ** 2
    worst = np.zeros_like(v)  # the approximations' share, added up in magnitude
    for n in g.node:
        if n.op_type == "Sub":
            v = v - w[n.input[1]]
            var = var + rounding(v, 0)
        elif n.op_type == "Div":
            v, var = v / w[n.input[1]], var / w[n.input[1]] ** 2
            worst = worst / np.abs(w[n.input[1]])
            var = var + rounding(v, 0)
        elif n.op_type == "Gemm":
            assert any(a.name == "transB" and a.i == 1 for a in n.attribute), "Gemm without transB"
            W, b = w[n.input[1]], w[n.input[2]]
            m = np.abs(v) @ np.abs(W).T + np.abs(b)
            v, var = v @ W.T + b, var @ (W * W).T + rounding(m, W.shape[1])
            worst = worst @ np.abs(W).T
        elif n.op_type == "Relu":
            v = np.maximum(v, 0)  # passes a change on, or less
        elif n.op_type == "Tanh":
            slope = 1 - np.tanh(v) ** 2  # a change of the input passes on times tanh'
            ort = tanh_error_of_onnx_runtime(float(np.abs(v).max()) * 1.01 + 1e-3)
            v = np.tanh(v)
            var = var * slope ** 2 + rounding(v, 0)
            kiln = 4 * np.spacing(np.abs(v).astype(np.float32)).astype(np.float64)
            worst = worst * slope + kiln + ort
        else:
            raise SystemExit(f"own_data: no rounding walk for {n.op_type}")
    return 6 * np.sqrt(var) + worst

c = onnx_runtime(f"{work}/c.onnx", features, "c")
c_bound = bound(f"{work}/c.onnx", features)
assert c_bound.shape == c.shape
assert (np.abs(c - np.load(f"{work}/c_logits.npy")) <= c_bound).all()
# The regression's predictions: the same walk, tanh's approximations included.
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
