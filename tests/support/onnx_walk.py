#!/usr/bin/env python3
"""How far ONNX Runtime's outputs of an exported graph may lie from kiln's, output by output.

The random walk of tests/support/rounding_walk.hpp, in numpy over the graph's nodes: a double
reference forward carrying, for every value, its variance from the roundings of both sides (a sum
of K terms and a bias, partial sums below M = sum of |terms|: 2u^2 M^2 (K + 2)/3, two orders), and,
apart and worst case, the approximations of tanh, sigmoid and erf: kiln's (Highway's Tanh, 4 ulp
stated; its sigmoid e/(1 + e) from Highway's Exp, 1 ulp stated, 3u absolute with the add, the
divide and 1 - s; GELU's erff from glibc, 1 ulp in its manual's table of known maximum errors)
and ONNX Runtime's, which states none, measured in the same run on 2^21 float32
inputs over the node's range through a one-node graph. A bound is 6 sigma of the walk plus that
worst case. Max pooling (MaxPool, Gather + Max) passes on the largest variance of its window:
max is 1-Lipschitz. The inputs start with a float's last bit of variance (kiln parses a CSV to
float, a script to double and then to float).

  onnx_walk.py MODEL.onnx INPUT.npy KILN.npy ORT.npy RUN_ONNX.js WORK_DIR
checks |ORT - KILN| <= bound for every output and prints the largest ratio; exit 1 otherwise.
"""
import subprocess
import sys

import numpy as np
import onnx
from onnx import numpy_helper

U = 2.0 ** -24  # float32's unit roundoff


def rounding(m, k):
    return 2 * U * U * m * m * (k + 2) / 3


def onnx_runtime(model, x, stem, run_onnx):
    np.save(f"{stem}_in.npy", x)
    subprocess.run(["node", run_onnx, model, f"{stem}_in.npy", f"{stem}_ort.npy"], check=True)
    return np.load(f"{stem}_ort.npy")


def approximation_error(op, a, work, run_onnx):
    """ONNX Runtime's largest absolute error of `op` (Tanh, Sigmoid, Erf) over [-a, a]."""
    grid = np.linspace(-a, a, 1 << 20, dtype=np.float32)
    grid = np.concatenate([grid, np.nextafter(grid, np.float32(np.inf))])
    x = onnx.helper.make_tensor_value_info("input", onnx.TensorProto.FLOAT, [grid.size])
    y = onnx.helper.make_tensor_value_info("logits", onnx.TensorProto.FLOAT, [grid.size])
    g = onnx.helper.make_graph([onnx.helper.make_node(op, ["input"], ["logits"])], op, [x], [y])
    path = f"{work}/{op.lower()}.onnx"
    onnx.save(onnx.helper.make_model(g, opset_imports=[onnx.helper.make_opsetid("", 13)]), path)
    t = onnx_runtime(path, grid, f"{work}/{op.lower()}", run_onnx).astype(np.float64)
    return float(np.abs(t - exact(op, grid.astype(np.float64))).max())


def exact(op, x):
    if op == "Tanh":
        return np.tanh(x)
    if op == "Sigmoid":
        return 1 / (1 + np.exp(-x))
    from math import erf
    return np.vectorize(erf)(x)


def attributes(node):
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def windows(x, kernel, strides, pads, fill):
    """[N, C, H, W] -> [N, C, kh*kw, Ho, Wo], padded with `fill`."""
    n, c, h, w = x.shape
    x = np.pad(x, ((0, 0), (0, 0), (pads[0], pads[2]), (pads[1], pads[3])),
               constant_values=fill)
    ho = (h + pads[0] + pads[2] - kernel[0]) // strides[0] + 1
    wo = (w + pads[1] + pads[3] - kernel[1]) // strides[1] + 1
    out = np.empty((n, c, kernel[0] * kernel[1], ho, wo))
    for i in range(kernel[0]):
        for j in range(kernel[1]):
            out[:, :, i * kernel[1] + j] = x[:, :, i:i + strides[0] * ho:strides[0],
                                             j:j + strides[1] * wo:strides[1]]
    return out


def bound(model, x, work, run_onnx):
    g = onnx.load(model).graph
    w = {t.name: numpy_helper.to_array(t).astype(np.float64) for t in g.initializer}
    v = x.astype(np.float64)
    # name -> (value, variance of its change, worst-case change)
    env = {g.input[0].name: (v, (U * v) ** 2, np.zeros_like(v))}
    def operand(name):
        if name in env:
            return env[name]
        c = w[name]
        return c, np.zeros_like(c), np.zeros_like(c)

    for n in g.node:
        a = attributes(n)
        op = n.op_type
        if op == "Constant":
            w[n.output[0]] = numpy_helper.to_array(a["value"]).astype(np.float64)
            continue
        v, var, worst = operand(n.input[0])
        if op in ("Add", "Sub", "Mul", "Div"):
            # Each operand a walked value or a constant; first order in the changes. An operand
            # used twice (x·x) changes twice as much.
            (a_v, a_var, a_w), (b_v, b_var, b_w) = (operand(i) for i in n.input[:2])
            same = n.input[0] == n.input[1]
            if op in ("Add", "Sub"):
                v = a_v + b_v if op == "Add" else a_v - b_v
                var = a_var + b_var + rounding(np.abs(a_v) + np.abs(b_v), 1)
                worst = a_w + b_w
            elif op == "Mul":
                v = a_v * b_v
                if same:
                    var, worst = 4 * a_v ** 2 * a_var, 2 * np.abs(a_v) * a_w
                else:
                    var = b_v ** 2 * a_var + a_v ** 2 * b_var
                    worst = np.abs(b_v) * a_w + np.abs(a_v) * b_w
                var = var + rounding(v, 0)
            else:
                v = a_v / b_v
                var = a_var / b_v ** 2 + (a_v / b_v ** 2) ** 2 * b_var + rounding(v, 0)
                worst = a_w / np.abs(b_v) + np.abs(a_v) / b_v ** 2 * b_w
        elif op == "Sqrt":
            v = np.sqrt(v)
            var, worst = var / (4 * v * v) + rounding(v, 0), worst / (2 * v)
        elif op == "ReduceMean":
            axes = tuple(a["axes"])
            count = int(np.prod([v.shape[i] for i in axes]))
            keep = bool(a.get("keepdims", 1))
            m = np.abs(v).mean(axis=axes, keepdims=keep)
            v = v.mean(axis=axes, keepdims=keep)
            var = var.sum(axis=axes, keepdims=keep) / count ** 2 + rounding(m, count)
            worst = worst.mean(axis=axes, keepdims=keep)
        elif op == "Gemm":
            assert a.get("transB") == 1 and a.get("alpha", 1.0) == 1.0 and a.get("beta", 1.0) == 1.0
            W, b = w[n.input[1]], w[n.input[2]]
            m = np.abs(v) @ np.abs(W).T + np.abs(b)
            v, var = v @ W.T + b, var @ (W * W).T + rounding(m, W.shape[1])
            worst = worst @ np.abs(W).T
        elif op == "Conv":
            W, b = w[n.input[1]], w[n.input[2]]
            assert a.get("group", 1) == 1 and all(d == 1 for d in a.get("dilations", [1, 1]))
            k, s, p = a["kernel_shape"], a.get("strides", [1, 1]), a.get("pads", [0, 0, 0, 0])
            f = W.shape[0]
            # [N, C*kh*kw, Ho, Wo]; the weights [F, C, kh, kw] flattened the same way
            xv, xvar, xw = (windows(t, k, s, p, 0.0) for t in (v, var, worst))
            nb, c = v.shape[0], v.shape[1]
            ho, wo = xv.shape[-2:]
            xv, xvar, xw = (t.reshape(nb, c * k[0] * k[1], ho, wo) for t in (xv, xvar, xw))
            Wf = W.reshape(f, -1)
            m = np.einsum("fk,nkhw->nfhw", np.abs(Wf), np.abs(xv)) + np.abs(b)[None, :, None, None]
            v = np.einsum("fk,nkhw->nfhw", Wf, xv) + b[None, :, None, None]
            var = np.einsum("fk,nkhw->nfhw", Wf * Wf, xvar) + rounding(m, Wf.shape[1])
            worst = np.einsum("fk,nkhw->nfhw", np.abs(Wf), xw)
        elif op == "Relu":
            v = np.maximum(v, 0)  # passes a change on, or less
        elif op == "LeakyRelu":
            alpha = a.get("alpha", 0.01)
            neg = v < 0
            v = np.where(neg, alpha * v, v)
            var = np.where(neg, alpha * alpha * var + rounding(v, 0), var)
        elif op in ("MaxPool", "AveragePool"):
            k, s, p = a["kernel_shape"], a.get("strides", [1, 1]), a.get("pads", [0, 0, 0, 0])
            if op == "MaxPool":
                v = windows(v, k, s, p, -np.inf).max(axis=2)
                var = windows(var, k, s, p, 0.0).max(axis=2)
                worst = windows(worst, k, s, p, 0.0).max(axis=2)
            else:
                assert a.get("count_include_pad", 0) == 1
                count = k[0] * k[1]
                m = windows(np.abs(v), k, s, p, 0.0).sum(axis=2) / count
                v = windows(v, k, s, p, 0.0).sum(axis=2) / count
                var = windows(var, k, s, p, 0.0).sum(axis=2) / count ** 2 + rounding(m, count)
                worst = windows(worst, k, s, p, 0.0).sum(axis=2) / count
        elif op == "GlobalAveragePool":
            count = v.shape[2] * v.shape[3]
            m = np.abs(v).mean(axis=(2, 3), keepdims=True)
            v = v.mean(axis=(2, 3), keepdims=True)
            var = var.sum(axis=(2, 3), keepdims=True) / count ** 2 + rounding(m, count)
            worst = worst.mean(axis=(2, 3), keepdims=True)
        elif op == "Gather":
            idx = w[n.input[1]].astype(np.int64)
            v, var, worst = (np.take(t, idx, axis=a.get("axis", 0)) for t in (v, var, worst))
        elif op == "Max":
            parts = [env[i] for i in n.input]
            v = np.max([t[0] for t in parts], axis=0)
            var = np.max([t[1] for t in parts], axis=0)
            worst = np.max([t[2] for t in parts], axis=0)
        elif op in ("Tanh", "Sigmoid", "Erf"):
            ort = approximation_error(op, float(np.abs(v).max()) * 1.01 + 1e-3, work, run_onnx)
            y = exact(op, v)
            slope = {"Tanh": lambda: 1 - y * y, "Sigmoid": lambda: y * (1 - y),  # f'
                     "Erf": lambda: 2 / np.sqrt(np.pi) * np.exp(-v * v)}[op]()
            ulp = np.spacing(np.abs(y).astype(np.float32)).astype(np.float64)
            kiln = {"Tanh": 4 * ulp, "Sigmoid": 3 * U, "Erf": ulp}[op]
            v, var, worst = y, var * slope ** 2 + rounding(y, 0), worst * slope + kiln + ort
        elif op == "BatchNormalization":
            gamma, beta, mean, variance = (w[i] for i in n.input[1:5])
            scale = gamma / np.sqrt(variance + a.get("epsilon", 1e-5))
            shape = (1, -1) + (1,) * (v.ndim - 2)
            scale, beta, mean = (t.reshape(shape) for t in (scale, beta, mean))
            xs = np.abs(v * scale)
            m = xs + np.abs(mean * scale) + np.abs(beta)
            v = (v - mean) * scale + beta
            # (x - mean)·γ/√(var + ε) + β: three terms; the scale itself three roundings
            var = var * scale ** 2 + rounding(m, 3) + rounding(xs, 3)
            worst = worst * np.abs(scale)
        elif op == "Flatten":
            axis = a.get("axis", 1)
            shape = (int(np.prod(v.shape[:axis])), -1)
            v, var, worst = (t.reshape(shape) for t in (v, var, worst))
        elif op == "Reshape":
            shape = [int(d) for d in w[n.input[1]]]
            shape = [v.shape[i] if d == 0 else d for i, d in enumerate(shape)]
            v, var, worst = (t.reshape(shape) for t in (v, var, worst))
        elif op in ("Identity", "Dropout"):
            pass
        else:
            raise SystemExit(f"onnx_walk: no rounding walk for {op} ({model})")
        env[n.output[0]] = (v, var, worst)
    v, var, worst = env[g.output[0].name]
    return 6 * np.sqrt(var) + worst


def main():
    model, inputs, kiln, ort, run_onnx, work = sys.argv[1:7]
    x = np.load(inputs)
    k, o = (np.load(f).astype(np.float64).reshape(-1) for f in (kiln, ort))
    b = bound(model, x, work, run_onnx).reshape(-1)
    ratio = np.abs(o - k) / b
    print(f"onnx_walk: {model}: the largest difference {np.abs(o - k).max():.3g}, "
          f"{ratio.max():.3f} of its bound (bounds {b.min():.3g} to {b.max():.3g})")
    if not (ratio <= 1).all():
        bad = int(np.argmax(ratio))
        print(f"onnx_walk: output {bad} differs by {abs(o.flat[bad] - k.flat[bad]):.3g}, "
              f"its bound is {b.flat[bad]:.3g}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
