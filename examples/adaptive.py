"""
Adaptive designs: spend the teacher runs on the edge of the case of interest
============================================================================

Where is the Branin function below 10? A Latin hypercube spreads its runs evenly; an adaptive
design (``goal="boundary"``) fits a GP after every run and puts the next one where the GP is
least sure which side of ``y < 10`` a point is on, so its runs gather along the edge. Both
designs get the same budget; each GP then classifies a fine grid of the plane, and the share of
the grid put on the wrong side is measured against the true function. The figures: the
adaptive design's estimate of that share after every round (its learning curve), and both
designs over the true edge.

Run: ``python examples/adaptive.py [--budget 40]`` (seconds to a minute).
"""

from __future__ import annotations

import argparse

import numpy as np

import simulators
import surrogate as sg
from surrogate import plot
from surrogate.sequential import adaptive_sample

LEVEL = 10.0  # the case of interest: y < LEVEL


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--budget", type=int, default=40, help="teacher runs per design")
    args = parser.parse_args()
    branin = simulators.load("branin")

    adaptive = adaptive_sample(branin, goal="boundary", output="y", threshold=("<", LEVEL),
                               budget=args.budget, seed=0)
    print(f"adaptive design: {len(adaptive.runs)} runs, stopped by {adaptive.stopped}")
    print(adaptive.history[["round", "n_runs", adaptive.fidelity]].tail(3).to_string(index=False))

    lhs = branin.run(sg.sample(branin.space, args.budget, seed=0)).valid()
    fixed = sg.GPRegressor(seed=0).fit(lhs.X, lhs.Y["y"])

    x1, x2 = np.meshgrid(np.linspace(-5, 10, 121), np.linspace(0, 15, 121))
    grid = branin.space.validate(np.column_stack([x1.ravel(), x2.ravel()]))
    truth = branin(grid)["y"].to_numpy() < LEVEL
    for name, model in (("Latin hypercube", fixed), ("adaptive", adaptive.model)):
        wrong = (model.predict(grid) < LEVEL) != truth
        print(f"{name:>15}: {wrong.mean():.2%} of the plane on the wrong side of y < {LEVEL:g}")

    plot.learning_curve(adaptive)  # the first figure
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 5))  # the second: both designs over the true edge
    ax.contour(x1, x2, truth.reshape(x1.shape).astype(float), levels=[0.5], colors="k")
    ax.scatter(lhs.X["x1"], lhs.X["x2"], marker="s", facecolors="none", edgecolors="grey",
               label="Latin hypercube")
    ax.scatter(adaptive.runs.X["x1"], adaptive.runs.X["x2"], c="tab:red", s=18,
               label="adaptive (goal='boundary')")
    ax.set(xlabel="x1", ylabel="x2", title=f"Branin: the edge of y < {LEVEL:g} (black)")
    ax.legend(loc="upper right")


if __name__ == "__main__":
    main()
