#!/usr/bin/python3
"""Writes lbfgs_pytorch.json: PyTorch 1.13's torch.optim.LBFGS on a convex quadratic and on
Rosenbrock's function, in float64, with every point the closure was evaluated at.
tests/second_order/lbfgs_test.cpp replays each case with kiln's L-BFGS and compares the
evaluations one by one.

    /usr/bin/python3 tests/data/make_lbfgs_fixture.py   # from the repository root

Only this script needs PyTorch (python3-torch); the tests read the JSON.
"""
import json
import os

import torch

torch.set_default_dtype(torch.float64)

# f(x) = ½ xᵀAx − bᵀx with A = QΛQᵀ, eigenvalues 1 … 40 (condition number 40), Q from a fixed
# Householder reflection: no random generator, so the numbers never change.
N = 6
eigen = torch.tensor([1.0, 2.5, 5.0, 10.0, 20.0, 40.0])
v = torch.tensor([1.0, -2.0, 0.5, 3.0, -1.0, 2.0])
Q = torch.eye(N) - 2 * torch.outer(v, v) / v.dot(v)
A = Q @ torch.diag(eigen) @ Q.T
A = (A + A.T) / 2
b = torch.tensor([1.0, -1.0, 2.0, 0.5, -3.0, 1.5])


def quadratic(x):
    return 0.5 * x.dot(A.mv(x)) - b.dot(x)


def rosenbrock(x):
    return (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2


PROBLEMS = {"quadratic": (quadratic, [0.0] * N), "rosenbrock": (rosenbrock, [-1.2, 1.0])}


def run(name, problem, steps, **options):
    function, start = PROBLEMS[problem]
    x = torch.tensor(start, requires_grad=True)
    optimizer = torch.optim.LBFGS([x], **options)
    evaluations = []

    def closure():
        optimizer.zero_grad()
        loss = function(x)
        loss.backward()
        evaluations.append({"x": x.detach().tolist(), "loss": loss.item()})
        return loss

    returned = [float(optimizer.step(closure)) for _ in range(steps)]
    state = optimizer.state[x]
    return {
        "name": name,
        "problem": problem,
        "steps": steps,
        "options": {
            "lr": options.get("lr", 1.0),
            "max_iter": options.get("max_iter", 20),
            "history_size": options.get("history_size", 100),
            "line_search": options.get("line_search_fn") or "none",
        },
        "step_returns": returned,
        "evaluations": evaluations,
        "final_x": x.detach().tolist(),
        "n_iter": state["n_iter"],
        "func_evals": state["func_evals"],
    }


cases = [
    # history 3 < iterations: the oldest pairs are dropped
    run("quadratic_none", "quadratic", 1, max_iter=40, history_size=3),
    run("quadratic_wolfe", "quadratic", 1, max_iter=40, history_size=3,
        line_search_fn="strong_wolfe"),
    # 40 iterations: past them the fixed-step path amplifies rounding by ~10x per few steps
    # (differences of 1e-16 in a sum reach 1e-6 by iteration 60, in PyTorch as in kiln)
    run("rosenbrock_none", "rosenbrock", 1, max_iter=40, history_size=10),
    run("rosenbrock_wolfe", "rosenbrock", 1, max_iter=100, history_size=10,
        line_search_fn="strong_wolfe"),
    # state carries over between steps (history, direction, step length)
    run("rosenbrock_steps", "rosenbrock", 6, max_iter=5, history_size=4),
]
out = {
    "generator": "tests/data/make_lbfgs_fixture.py",
    "torch": torch.__version__,
    "quadratic": {"A": A.tolist(), "b": b.tolist()},
    "cases": cases,
}
path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "lbfgs_pytorch.json")
with open(path, "w") as f:
    json.dump(out, f, indent=1)
    f.write("\n")
for c in cases:
    print(f'{c["name"]}: {c["n_iter"]} iterations, {c["func_evals"]} evaluations, '
          f'x = {c["final_x"]}')
