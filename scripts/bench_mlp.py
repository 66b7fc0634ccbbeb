#!/usr/bin/python3
"""The MLP epoch, kiln against PyTorch and against its own GEMM-bound time, in one run.

Alternates rounds of kiln's mlp_bench (kiln epoch + GEMM-bound epoch, median of --repeats)
and PyTorch's peer (../shared/peers/torch_fmnist_mlp.py --runs mlp_sgdm) so that both see the
same machine conditions, then prints medians over rounds and the ratios:

  scripts/bench_mlp.py [--bench build/release/samples/mlp_bench] [--rounds 3] [--threads 1,2]
                       [--cpu-clock]

--cpu-clock times the training thread's CPU time on both sides (1 thread only): steadier when
other work shares the cores, as it leaves out the time a thread waits for one.

Needs python3-torch (apt-get install python3-torch) for the PyTorch side; kiln never does.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import types

HERE = os.path.dirname(os.path.abspath(__file__))
PEER = os.path.join(HERE, "..", "..", "shared", "peers", "torch_fmnist_mlp.py")


def kiln_round(bench, threads, repeats, cpu_clock):
    cmd = [bench, "--json", "--threads", threads, "--repeats", str(repeats)]
    out = subprocess.run(cmd + (["--cpu-clock"] if cpu_clock else []), check=True,
                         capture_output=True, text=True).stdout
    return {r["threads"]: r for r in json.loads(out)["runs"]}


def torch_round_in_process(peer, data, threads, epochs):
    """The peer imported, its clock replaced by the thread's CPU time (--cpu-clock)."""
    res = {}
    for th in threads.split(","):
        r = peer.train("mlp_sgdm", int(th), epochs, data)
        res[int(th)] = statistics.median(e["train_s"] for e in r["epochs"][1:])
    return res


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
    ap.add_argument("--cpu-clock", action="store_true")
    args = ap.parse_args()
    if args.cpu_clock and args.threads != "1":
        sys.exit("bench_mlp.py: --cpu-clock measures one thread: use --threads 1")
    if args.cpu_clock:
        sys.path.insert(0, os.path.dirname(args.peer))
        import torch_fmnist_mlp as peer_module  # noqa: E402
        peer_module.time = types.SimpleNamespace(perf_counter=time.thread_time)
        peer_module.print = lambda *a, **k: None  # its per-epoch lines
        data = peer_module.load_fmnist()

    kiln, gemm, torch = {}, {}, {}
    for r in range(args.rounds):
        k = kiln_round(args.bench, args.threads, args.repeats, args.cpu_clock)
        t = (torch_round_in_process(peer_module, data, args.threads, args.torch_epochs)
             if args.cpu_clock else torch_round(args.peer, args.threads, args.torch_epochs))
        for th in k:
            kiln.setdefault(th, []).append(k[th]["kiln_epoch_s"])
            gemm.setdefault(th, []).append(k[th]["gemm_bound_s"])
            torch.setdefault(th, []).append(t[th])
        print(f"round {r + 1}: " + "  ".join(
            f"t={th}: kiln {k[th]['kiln_epoch_s']:.3f}s gemm {k[th]['gemm_bound_s']:.3f}s "
            f"torch {t[th]:.3f}s" for th in k), file=sys.stderr, flush=True)

    clock = "thread CPU time" if args.cpu_clock else "wall time"
    print(f"{clock}; load average at the end: {os.getloadavg()[0]:.2f}")
    print("| threads | kiln epoch (s) | PyTorch epoch (s) | GEMM-bound (s) | kiln / PyTorch | kiln / GEMM-bound |")
    print("|---:|---:|---:|---:|---:|---:|")
    for th in sorted(kiln):
        k, g, t = (statistics.median(v[th]) for v in (kiln, gemm, torch))
        print(f"| {th} | {k:.3f} | {t:.3f} | {g:.3f} | {k / t:.2f} | {k / g:.2f} |")


if __name__ == "__main__":
    main()
