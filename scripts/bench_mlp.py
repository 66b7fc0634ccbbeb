#!/usr/bin/python3
"""The MLP epoch, kiln against PyTorch and against its own GEMM-bound time, in one run.

Alternates rounds of kiln's mlp_bench (kiln epoch + GEMM-bound epoch, median of --repeats)
and PyTorch's peer (../shared/peers/torch_fmnist_mlp.py --runs mlp_sgdm) so that both see the
same machine conditions, then prints medians over rounds and the ratios:

  scripts/bench_mlp.py [--bench build/release/samples/mlp_bench] [--rounds 3] [--threads 1,2]

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
PEER = os.path.join(HERE, "..", "..", "shared", "peers", "torch_fmnist_mlp.py")


def kiln_round(bench, threads, repeats):
    out = subprocess.run([bench, "--json", "--threads", threads, "--repeats", str(repeats)],
                         check=True, capture_output=True, text=True).stdout
    return {r["threads"]: r for r in json.loads(out)["runs"]}


def torch_round(peer, threads, epochs):
    with tempfile.NamedTemporaryFile(suffix=".json") as f:
        subprocess.run(["/usr/bin/python3", peer, "--runs", "mlp_sgdm", "--threads", threads,
                        "--mlp-epochs", str(epochs), "--out", f.name],
                       check=True, capture_output=True, text=True)
        res = json.load(open(f.name))["results"]
    # The first epoch warms up (allocator, BLAS buffers): take the median of the others.
    return {r["threads"]: statistics.median(e["train_s"] for e in r["epochs"][1:]) for r in res}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bench", default=os.path.join(HERE, "..", "build", "release", "samples",
                                                    "mlp_bench"))
    ap.add_argument("--peer", default=PEER)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--repeats", type=int, default=3, help="kiln epochs per round (median)")
    ap.add_argument("--torch-epochs", type=int, default=4, help="PyTorch epochs per round")
    args = ap.parse_args()

    kiln, gemm, torch = {}, {}, {}
    for r in range(args.rounds):
        k = kiln_round(args.bench, args.threads, args.repeats)
        t = torch_round(args.peer, args.threads, args.torch_epochs)
        for th in k:
            kiln.setdefault(th, []).append(k[th]["kiln_epoch_s"])
            gemm.setdefault(th, []).append(k[th]["gemm_bound_s"])
            torch.setdefault(th, []).append(t[th])
        print(f"round {r + 1}: " + "  ".join(
            f"t={th}: kiln {k[th]['kiln_epoch_s']:.3f}s gemm {k[th]['gemm_bound_s']:.3f}s "
            f"torch {t[th]:.3f}s" for th in k), file=sys.stderr, flush=True)

    print(f"load average at the end: {os.getloadavg()[0]:.2f}")
    print("| threads | kiln epoch (s) | PyTorch epoch (s) | GEMM-bound (s) | kiln / PyTorch | kiln / GEMM-bound |")
    print("|---:|---:|---:|---:|---:|---:|")
    for th in sorted(kiln):
        k, g, t = (statistics.median(v[th]) for v in (kiln, gemm, torch))
        print(f"| {th} | {k:.3f} | {t:.3f} | {g:.3f} | {k / t:.2f} | {k / g:.2f} |")


if __name__ == "__main__":
    main()
