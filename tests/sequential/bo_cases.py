"""Optimizations whose points were recorded from ``minimize``/``maximize`` as they were before
they became clients of the shared sequential-design loop (``bo_reference.json``, the optimize
package of commit b68c83d over the GP arithmetic of this tree); ``test_bo_unchanged.py`` replays
them and asserts the same points (the initial design bit for bit, later points to the last
digits that differ between CPUs). The cases run with ``escape=False``, the loop
as it was (the default later gained the escape from stalled basins, which the reference
predates); the old loop, which has no such option, runs them as they are. The mixed case's
later points are no longer replayed (``MODEL_CHANGED`` in the test): the loop's GP now models its
categorical parameter with the kernel for categories, which the old loop did not.

The points also depend on the GP's floating-point arithmetic. Should a change of
:mod:`surrogate.models` move them, regenerate the reference with the *old* loop over the *new*
models, never with the loop under test::

    git archive HEAD | tar -x -C /tmp/tree
    rm -r /tmp/tree/surrogate/optimize
    git archive b68c83d surrogate/optimize | tar -x -C /tmp/tree
    PYTHONPATH=/tmp/tree python tests/sequential/bo_cases.py > tests/sequential/bo_reference.json
"""

from __future__ import annotations

import inspect
import json
import sys

import numpy as np

import simulators
from surrogate.optimize import maximize, minimize
from surrogate.space import Categorical, Integer, Real, Space
from surrogate.teacher import Simulator


def bowl(x, y):
    return {"f": x**2 + y**2, "g": x + y}


def mixed(point):
    if point["x"] > 0.85:  # a failing corner: the success model steers the search
        return float("nan")
    return -((point["x"] - 0.3) ** 2 + 0.1 * (point["n"] - 5) ** 2
             + (0.0 if point["c"] == "b" else 1.0))


# the plain loop, without the escape from stalled basins and the objective's warp (absent
# from the old loop)
PLAIN = {option: False for option in ("escape", "warp")
         if option in inspect.signature(minimize).parameters}
MIXED_SPACE = Space([Real("x", 0.0, 1.0), Integer("n", 0, 8), Categorical("c", ["a", "b", "c"])])
BOWL_SPACE = Space([Real("x", -1.0, 2.0), Real("y", -1.0, 2.0)])


def cases():
    """name -> a function running one optimization (``checkpoint`` optional)."""
    branin = simulators.load("branin")
    bowl_sim = Simulator(bowl, BOWL_SPACE, ["f", "g"], name="bowl")
    return {
        "branin batch 1": lambda checkpoint=None: minimize(
            branin, budget=15, seed=0, checkpoint=checkpoint, **PLAIN),
        "branin batch 3": lambda checkpoint=None: minimize(
            branin, budget=15, batch_size=3, seed=0, checkpoint=checkpoint, **PLAIN),
        "constrained bowl": lambda checkpoint=None: minimize(
            bowl_sim, output="f", constraints={"g": (">=", 1.0)}, budget=12, seed=0,
            checkpoint=checkpoint, **PLAIN),
        "mixed maximize with failures, ucb, batch 2": lambda checkpoint=None: maximize(
            mixed, space=MIXED_SPACE, budget=14, n_init=6, batch_size=2, acquisition="ucb",
            seed=1, checkpoint=checkpoint, **PLAIN),
        "branin ei": lambda checkpoint=None: minimize(
            branin, budget=10, acquisition="ei", seed=2, checkpoint=checkpoint, **PLAIN),
    }


def record(result):
    """What must not change: every evaluated point, the outputs and the reported optimum."""
    X = result.history.X
    return {
        "X": {name: X[name].tolist() for name in X.columns},
        "Y": {name: [None if np.isnan(v) else v for v in result.history.Y[name].tolist()]
              for name in result.history.outputs},
        "status": result.history.status.tolist(),
        "x": result.x, "y": None if np.isnan(result.y) else result.y,
        "feasible": result.feasible,
    }


if __name__ == "__main__":
    import tempfile
    from pathlib import Path

    out = {}
    for name, run in cases().items():
        with tempfile.TemporaryDirectory() as tmp:
            result = run(checkpoint=Path(tmp) / "ckpt")
            out[name] = record(result)
            signature = Path(tmp) / "ckpt" / "optimization.json"
            out[name]["signature"] = json.loads(signature.read_text())
            out[name]["layout"] = sorted(p.name for p in (Path(tmp) / "ckpt").iterdir()
                                         if p.name != "design.lock")
        print(name, file=sys.stderr)
    json.dump(out, sys.stdout, indent=1)
    print()
