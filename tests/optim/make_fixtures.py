#!/usr/bin/python3
"""Writes PyTorch's trajectories into tests/data/torch_optim/<optimizer>.json, one file per
optimizer: for every configuration the file lists ("configurations": optim_trace's flags, with
PyTorch's names and booleans as 0/1), the trajectory on optim_trace's two problems, in float32 and
float64, for tests/optim/trace_test. A new optimizer's file starts as
{"optimizer": "<name>", "configurations": [{...}, ...]}; this script fills in the rest. The
optimizer's class is torch.optim's of the same name (case aside).

Run by hand (needs PyTorch, e.g. Debian's python3-torch 1.13); the build and the tests only read
the JSON it writes. The problems and the gradient rule are optim_trace's: the gradient is
evaluated in float64 at the current parameters and rounded to the dtype, so the trajectories
differ only by the optimizer's arithmetic. float32 values are written with the fewest digits that
read back as the same float32.

Usage: tests/optim/make_fixtures.py [folder]
"""
import glob
import json
import os
import sys

import numpy
import torch

STEPS = 30

A = [[3, .5, 0, .2], [.5, 2, .3, 0], [0, .3, 1, -.4], [.2, 0, -.4, .5]]
B = [1, -2, .5, .25]


def rosenbrock(x):
    return [-2 * (1 - x[0]) - 400 * x[0] * (x[1] - x[0] * x[0]), 200 * (x[1] - x[0] * x[0])]


def quadratic(x):
    return [sum(A[i][j] * x[j] for j in range(4)) - B[i] for i in range(4)]


PROBLEMS = {"rosenbrock": ([-1.2, 1.0], rosenbrock), "quadratic": ([1.0, 1.0, -1.0, 2.0], quadratic)}

# torch.optim's optimizers by lower-case name: sgd, adagrad, rmsprop, adam, adamw, adamax, nadam...
CLASSES = {name.lower(): c for name, c in vars(torch.optim).items()
           if isinstance(c, type) and issubclass(c, torch.optim.Optimizer)}
BOOLEANS = {"nesterov", "centered", "amsgrad"}


def torch_kwargs(flags):
    kw = {}
    for k, v in flags.items():
        if k in ("beta1", "beta2"):
            continue
        kw[k] = bool(v) if k in BOOLEANS else v
    if "beta1" in flags or "beta2" in flags:
        kw["betas"] = (flags.get("beta1", 0.9), flags.get("beta2", 0.999))
    kw["foreach"] = False
    return kw


def short(v, dtype):
    """float64: exact. float32: the shortest decimal that reads back as the same float32 (what a
    test converts to float before comparing), to keep the file small."""
    return float(repr(numpy.float32(v))) if dtype == torch.float32 else float(v)


def trajectory(name, flags, problem, dtype):
    start, grad = PROBLEMS[problem]
    p = torch.tensor(start, dtype=dtype, requires_grad=True)
    opt = CLASSES[name]([p], **torch_kwargs(flags))
    out = []
    for _ in range(STEPS):
        x = [float(v) for v in p.detach().tolist()]
        p.grad = torch.tensor(grad(x), dtype=torch.float64).to(dtype)
        opt.step()
        out.append([short(v, dtype) for v in p.detach().tolist()])
    return out


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    folder = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "..", "data", "torch_optim")
    for path in sorted(glob.glob(os.path.join(folder, "*.json"))):
        with open(path) as f:
            spec = json.load(f)
        name = spec["optimizer"]
        cases = []
        for flags in spec["configurations"]:
            for problem in PROBLEMS:
                for dtype, label in ((torch.float32, "float32"), (torch.float64, "float64")):
                    cases.append(dict(optimizer=name, problem=problem, dtype=label, flags=flags,
                                      trajectory=trajectory(name, flags, problem, dtype)))
        with open(path, "w") as f:
            json.dump(dict(optimizer=name, source="torch " + torch.__version__ + ", foreach=False",
                           steps=STEPS, configurations=spec["configurations"], cases=cases),
                      f, separators=(",", ":"))
            f.write("\n")


if __name__ == "__main__":
    main()
