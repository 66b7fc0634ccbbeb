#!/usr/bin/env python3
"""The epochs of scripts/bench.sh against their FLOP-bound time: prints the table of the README's
Performance section and draws it with gnuplot (epoch seconds against the epoch's GFLOP, log-log,
with the lines of the f32 and bf16 matmul peaks measured in the same run).

  scripts/epoch_plot.py --out epochs.png mlp_f32.json mlp_bf16.json cnn_f32.json cnn_bf16.json

Each input is the --json output of mlp_bench or cnn_bench (the file name's first word names the
model). Exit code 2 for a bad argument or input, with one line on stderr.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile


def fail(message):
    print(f"error: {message}", file=sys.stderr)
    sys.exit(2)


def load(path):
    try:
        with open(path) as f:
            d = json.load(f)
        model = os.path.basename(path).split("_")[0].upper()
        runs = {r["threads"]: r for r in d["runs"]}
        return {"model": model, "precision": d["precision"], "gflop": float(d["epoch_gflop"]),
                "peak": float(d["peak_gflops"]), "peak_bf16": float(d.get("peak_bf16_gflops", 0)),
                "runs": runs}
    except (OSError, ValueError, KeyError, TypeError) as e:
        fail(f"{path}: not a mlp_bench/cnn_bench --json output ({e})")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True, help="the PNG to write")
    ap.add_argument("inputs", nargs="+")
    a = ap.parse_args()
    rows = [load(p) for p in a.inputs]
    f32_peak = min(r["peak"] for r in rows)  # each program probed it; the lowest is the safe line
    bf16_peaks = [r["peak_bf16"] for r in rows if r["peak_bf16"] > 0]

    print("| model | precision | threads | epoch s | GEMM-bound s | epoch / GEMM-bound |"
          " FLOP-bound s (f32 peak) | epoch / FLOP-bound | bf16 / f32 |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    f32_time = {(r["model"], t): x["kiln_epoch_s"] for r in rows if r["precision"] == "f32"
                for t, x in r["runs"].items()}
    for r in rows:
        for t, x in sorted(r["runs"].items()):
            ratio = x["kiln_epoch_s"] / f32_time[(r["model"], t)] if (r["model"], t) in f32_time \
                and r["precision"] != "f32" else None
            gemm = x.get("gemm_bound_s")  # mlp_bench times the epoch's products alone too
            epoch = x["kiln_epoch_s"]
            gemm_s = "" if gemm is None else f"{gemm:.3f}"
            over_gemm = "" if gemm is None else f"{epoch / gemm:.2f}"
            print(f"| {r['model']} | {r['precision']} | {t} | {epoch:.3f} | {gemm_s} | "
                  f"{over_gemm} | {x['flop_bound_s']:.3f} | {x['kiln_over_flop']:.2f} | "
                  f"{'' if ratio is None else f'{ratio:.2f}'} |")
    print(f"f32 matmul peak {f32_peak:.0f} GFLOP/s" +
          (f", bf16 {min(bf16_peaks):.0f} GFLOP/s" if bf16_peaks else ""))

    if not shutil.which("gnuplot"):
        fail("gnuplot is not installed (apt-get install gnuplot-nox): no chart")
    with tempfile.TemporaryDirectory() as tmp:
        data = os.path.join(tmp, "epochs.tsv")
        with open(data, "w") as f:
            for r in rows:
                for t, x in sorted(r["runs"].items()):
                    label = f"{r['model']} {x['kiln_over_flop']:.2f}x"  # of the f32 FLOP bound
                    f.write(f"{r['gflop']}\t{x['kiln_epoch_s']}\t\"{label}\"\t"
                            f"{1 if r['precision'] == 'f32' else 2}\t{t}\n")
        lo = min(r["gflop"] for r in rows) / 2
        hi = max(r["gflop"] for r in rows) * 2
        times = [x["kiln_epoch_s"] for r in rows for x in r["runs"].values()]
        bottom = min(min(times), lo / max([f32_peak] + bf16_peaks)) / 1.5
        top = max(max(times), hi / f32_peak) * 1.5
        lines = [f"x / {f32_peak} title 'FLOP-bound at the f32 peak ({f32_peak:.0f} GFLOP/s)' "
                 "lw 2 lc rgb '#1f77b4'"]
        if bf16_peaks:
            p = min(bf16_peaks)
            lines.append(f"x / {p} title 'at the bf16 peak ({p:.0f} GFLOP/s)' lw 2 dt 2 "
                         "lc rgb '#d62728'")
        script = f"""set terminal pngcairo size 900,600 font ',11'
set output '{a.out}'
set logscale xy
set xrange [{lo}:{hi}]
set yrange [{bottom}:{top}]
set xlabel 'GFLOP per epoch (2 per multiply-add forward, 4 backward)'
set ylabel 'epoch time (s)'
set title "kiln epochs against their FLOP-bound time, one run\\n(labels: the 1-thread epoch over the FLOP-bound time at the f32 peak)"
set key top left
set grid
sel(p, t) = ($4 == p && $5 == t) ? $2 : 1/0
plot {', '.join(lines)}, \\
  '{data}' using 1:(sel(1, 1)) with points pt 7 ps 1.8 lc rgb '#1f77b4' title 'f32 epoch, 1 thread', \\
  '{data}' using 1:(sel(1, 2)) with points pt 6 ps 1.8 lc rgb '#1f77b4' title 'f32 epoch, 2 threads', \\
  '{data}' using 1:(sel(2, 1)) with points pt 5 ps 1.8 lc rgb '#d62728' title 'bf16 epoch, 1 thread', \\
  '{data}' using 1:(sel(2, 2)) with points pt 4 ps 1.8 lc rgb '#d62728' title 'bf16 epoch, 2 threads', \\
  '{data}' using 1:(sel(1, 1)):3 with labels offset -1.5,0 right font ',9' notitle, \\
  '{data}' using 1:(sel(2, 1)):3 with labels offset 1.5,0 left font ',9' notitle
"""
        done = subprocess.run(["gnuplot"], input=script, text=True, capture_output=True)
        if done.returncode != 0:
            fail(f"gnuplot failed: {done.stderr.strip()}")
    print(f"chart: {a.out}")


if __name__ == "__main__":
    main()
