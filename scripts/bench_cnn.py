#!/usr/bin/python3
"""The CNN epoch, kiln against PyTorch, in one run.

Alternates rounds of kiln's cnn_bench (median of --repeats epochs) and PyTorch's peer
(../shared/peers/torch_fmnist_mlp.py, its CNN) so that both see the same machine conditions,
then prints medians over rounds and the ratio:

  scripts/bench_cnn.py [--bench build/release/samples/cnn_bench] [--rounds 3] [--threads 1]
                       [--optimizer sgdm|adam] [--cpu-clock]

The optimizer must match kiln's plan in samples/fmnist_cnn_peer.hpp: Adam 1e-3, as the peer's
own CNN run (sgdm, SGD momentum 0.9 lr 0.05, is there for a plan changed to match). --cpu-clock times the main thread's CPU time
on both sides (1 thread only): steadier when other work shares the cores.
Needs python3-torch (apt-get install python3-torch) for the PyTorch side; kiln never does.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import types

HERE = os.path.dirname(os.path.abspath(__file__))
PEERS = os.path.join(HERE, "..", "..", "shared", "peers")


def kiln_round(bench, threads, repeats, cpu_clock):
    cmd = [bench, "--json", "--threads", threads, "--repeats", str(repeats)]
    out = subprocess.run(cmd + (["--cpu-clock"] if cpu_clock else []), check=True,
                         capture_output=True, text=True).stdout
    return {r["threads"]: r["kiln_epoch_s"] for r in json.loads(out)["runs"]}


def torch_round(peer, data, threads, epochs, optimizer):
    res = {}
    for th in threads.split(","):
        r = peer.train("cnn_" + optimizer, int(th), epochs, data)
        # The first epoch warms up (allocator, BLAS buffers): the median of the others.
        res[int(th)] = statistics.median(e["train_s"] for e in r["epochs"][1:])
    return res


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bench", default=os.path.join(HERE, "..", "build", "release", "samples",
                                                    "cnn_bench"))
    ap.add_argument("--peers", default=PEERS)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--threads", default="1")
    ap.add_argument("--repeats", type=int, default=3, help="kiln epochs per round (median)")
    ap.add_argument("--torch-epochs", type=int, default=3, help="PyTorch epochs per round")
    ap.add_argument("--optimizer", default="adam", choices=["sgdm", "adam"])
    ap.add_argument("--cpu-clock", action="store_true")
    args = ap.parse_args()

    sys.path.insert(0, args.peers)
    import torch  # noqa: E402
    import torch_fmnist_mlp as peer  # noqa: E402
    peer.RUNS["cnn_sgdm"] = ("cnn", lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9))
    peer.RUNS["cnn_adam"] = ("cnn", lambda p: torch.optim.Adam(p, lr=1e-3))
    if args.cpu_clock:
        peer.time = types.SimpleNamespace(perf_counter=time.thread_time)
    peer.print = lambda *a, **k: None  # its per-epoch lines
    data = peer.load_fmnist()

    kiln, torch_s = {}, {}
    for r in range(args.rounds):
        k = kiln_round(args.bench, args.threads, args.repeats, args.cpu_clock)
        t = torch_round(peer, data, args.threads, args.torch_epochs, args.optimizer)
        for th in k:
            kiln.setdefault(th, []).append(k[th])
            torch_s.setdefault(th, []).append(t[th])
        print(f"round {r + 1}: " + "  ".join(f"t={th}: kiln {k[th]:.3f}s torch {t[th]:.3f}s"
                                             for th in k), file=sys.stderr, flush=True)

    clock = "thread CPU time" if args.cpu_clock else "wall time"
    print(f"optimizer {args.optimizer}, {clock}; load average at the end: "
          f"{os.getloadavg()[0]:.2f}")
    print("| threads | kiln epoch (s) | PyTorch epoch (s) | kiln / PyTorch |")
    print("|---:|---:|---:|---:|")
    for th in sorted(kiln):
        k, t = statistics.median(kiln[th]), statistics.median(torch_s[th])
        print(f"| {th} | {k:.3f} | {t:.3f} | {k / t:.2f} |")


if __name__ == "__main__":
    main()
