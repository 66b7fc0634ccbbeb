#!/usr/bin/env python3
"""scripts/epoch_plot.py on hand-made benchmark outputs: the table's ratios (epoch over the
GEMM-bound and FLOP-bound times, bf16 over f32), the chart gnuplot draws, and exit code 2 with one
line for an input that is not a benchmark's JSON.

  tests/epoch_plot_test.py SOURCE_DIR
"""
import json
import os
import subprocess
import sys
import tempfile


def bench(precision, gflop, runs, peak_bf16=0.0):
    return {"precision": precision, "peak_gflops": 200, "peak_bf16_gflops": peak_bf16,
            "epoch_gflop": gflop, "runs": runs}


def main():
    script = os.path.join(sys.argv[1], "scripts", "epoch_plot.py")
    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        files = {
            # epoch 0.4 s, products alone 0.32 s, FLOP-bound 60/200 = 0.3 s
            "mlp_f32.json": bench("f32", 60, [{"threads": 1, "kiln_epoch_s": 0.4,
                                               "gemm_bound_s": 0.32, "flop_bound_s": 0.3,
                                               "kiln_over_flop": 0.4 / 0.3}]),
            "mlp_bf16.json": bench("bf16", 60, [{"threads": 1, "kiln_epoch_s": 0.24,
                                                 "gemm_bound_s": 0.2, "flop_bound_s": 0.3,
                                                 "kiln_over_flop": 0.24 / 0.3}], 400),
            "cnn_f32.json": bench("f32", 360, [{"threads": 1, "kiln_epoch_s": 3.6,
                                                "flop_bound_s": 1.8, "kiln_over_flop": 2.0}]),
        }
        for name, content in files.items():
            with open(os.path.join(tmp, name), "w") as f:
                json.dump(content, f)
        png = os.path.join(tmp, "epochs.png")
        done = subprocess.run([sys.executable, script, "--out", png] +
                              [os.path.join(tmp, n) for n in files], capture_output=True, text=True)
        if done.returncode != 0:
            failures.append(f"exit {done.returncode}: {done.stderr}")
        rows = {tuple(c.strip() for c in line.split("|")[1:4]): [c.strip() for c in line.split("|")]
                for line in done.stdout.splitlines() if line.startswith("| MLP") or
                line.startswith("| CNN")}
        expect = {("MLP", "f32", "1"): ("0.400", "1.25", "1.33", ""),
                  ("MLP", "bf16", "1"): ("0.240", "1.20", "0.80", "0.60"),
                  ("CNN", "f32", "1"): ("3.600", "", "2.00", "")}
        for key, (epoch, over_gemm, over_flop, half) in expect.items():
            row = rows.get(key)
            got = None if row is None else (row[4], row[6], row[8], row[9])
            if got != (epoch, over_gemm, over_flop, half):
                failures.append(f"row {key}: expected {(epoch, over_gemm, over_flop, half)}, "
                                f"got {got}\n{done.stdout}")
        if not (os.path.exists(png) and open(png, "rb").read(8) == b"\x89PNG\r\n\x1a\n"):
            failures.append("no PNG written")

        bad = os.path.join(tmp, "mlp_bad.json")
        with open(bad, "w") as f:
            f.write("{not json")
        done = subprocess.run([sys.executable, script, "--out", png, bad], capture_output=True,
                              text=True)
        lines = done.stderr.strip().splitlines()
        if done.returncode != 2 or len(lines) != 1 or not lines[0].startswith(f"error: {bad}:"):
            failures.append(f"bad input: expected exit 2 and one line, got {done.returncode}: "
                            f"{done.stderr}")
    for f in failures:
        print(f, file=sys.stderr)
    print("epoch_plot: " + ("FAILED" if failures else "table, chart and errors as expected"))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
