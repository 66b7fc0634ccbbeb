#!/usr/bin/python3
"""One optimizer step at N = 1e7 on 1 thread: kiln's generated loop against PyTorch's step().

Alternates rounds of kiln's simd_bench (the target a trainer picks for a tensor of N weights on
this CPU: codegen/update/width.hpp) and
PyTorch's peer (../shared/peers/torch_optim_bench.py, foreach=False and True) so that both see
the same machine conditions, then prints medians over rounds and the speedup over PyTorch's
faster variant, per optimizer of the peer's set:

  scripts/bench_optim.py [--bench build/release/samples/simd_bench] [--rounds 3] [--size 1e7]

Needs python3-torch (apt-get install python3-torch) for the PyTorch side; kiln never does.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
PEER = os.path.join(HERE, "..", "..", "shared", "peers", "torch_optim_bench.py")
PLANS = ["SGD", "SGD_wd", "SGD_mom", "SGD_nesterov", "Adagrad", "RMSprop", "Adam", "AdamW"]


def kiln_round(bench, size, threads):
    out = subprocess.run([bench, "--json", "--no-scalar", "--sizes", size, "--threads", threads,
                          "--optimizers", ",".join(PLANS)],
                         check=True, capture_output=True, text=True).stdout
    rows = json.loads(out)["results"]
    return {r["plan"]: r["ms"] for r in rows if r["plan"] in PLANS and r["picked"]}


def torch_round(peer, size, threads):
    with tempfile.NamedTemporaryFile(suffix=".json") as f:
        subprocess.run(["/usr/bin/python3", peer, "--sizes", size, "--threads", threads,
                        "--out", f.name], check=True, capture_output=True, text=True)
        rows = json.load(open(f.name))["summary"]
    return {(r["opt"], r["foreach"]): r["median_ns"] / 1e6 for r in rows}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bench", default=os.path.join(HERE, "..", "build", "release", "samples",
                                                    "simd_bench"))
    ap.add_argument("--peer", default=PEER)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--size", default="1e7")
    ap.add_argument("--threads", default="1")
    args = ap.parse_args()

    kiln, torch = {}, {}
    for r in range(args.rounds):
        k = kiln_round(args.bench, args.size, args.threads)
        t = torch_round(args.peer, args.size, args.threads)
        for p, ms in k.items():
            kiln.setdefault(p, []).append(ms)
        for key, ms in t.items():
            torch.setdefault(key, []).append(ms)
        print(f"round {r + 1}: " + " ".join(
            f"{p} {k[p]:.2f}/{min(t[(p, False)], t[(p, True)]):.2f}ms" for p in PLANS),
            file=sys.stderr, flush=True)

    print(f"N = {args.size}, {args.threads} thread(s); load average at the end: "
          f"{os.getloadavg()[0]:.2f}")
    print("| optimizer | kiln (ms) | PyTorch foreach=False (ms) | PyTorch foreach=True (ms) "
          "| kiln speedup over the faster |")
    print("|---|---:|---:|---:|---:|")
    for p in PLANS:
        k = statistics.median(kiln[p])
        f0, f1 = statistics.median(torch[(p, False)]), statistics.median(torch[(p, True)])
        print(f"| {p} | {k:.2f} | {f0:.2f} | {f1:.2f} | {min(f0, f1) / k:.1f}x |")


if __name__ == "__main__":
    main()
