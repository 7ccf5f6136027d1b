"""
Quick start: a teacher, a design, a transfer set
================================================

Wrap a simulation as a teacher, draw a design, run it on local processes with a checkpoint,
and look at the transfer set.

Run: ``python examples/quickstart.py [--n N] [--out DIR]`` (with the venv's python, ``.venv/bin/python``).
"""

from __future__ import annotations

import argparse
import math
import tempfile
from pathlib import Path

import surrogate as sg

SPACE = sg.Space([
    sg.Real("growth", 0.5, 2.0),
    sg.Real("capacity", 10.0, 1000.0, log=True),
    sg.Integer("years", 5, 20),
])


def logistic_growth(growth: float, capacity: float, years: int) -> dict[str, float]:
    """A small difference-equation teacher: logistic growth from 1 individual."""
    population = 1.0
    for _ in range(years):
        population += growth * population * (1.0 - population / capacity)
        if not math.isfinite(population):
            raise ArithmeticError("population diverged")
    return {"final": population, "share_of_capacity": population / capacity}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="surrogate-quickstart-"))
    out.mkdir(parents=True, exist_ok=True)

    teacher = sg.Simulator(logistic_growth, SPACE, ["final", "share_of_capacity"])
    design = sg.sample(SPACE, args.n, method="lhs", seed=0)
    transfer = teacher.run(design, executor="processes", n_workers=2, checkpoint=out / "runs")
    print(transfer)
    print(transfer.Y.describe().round(3))
    again = teacher.run(design, checkpoint=out / "runs")  # resumes: nothing is recomputed
    assert again.Y.equals(transfer.Y)
    print(f"transfer set saved in {out / 'runs'}")

    import matplotlib.pyplot as plt  # the figure: the outputs over two of the inputs

    fig, ax = plt.subplots(figsize=(6, 4))
    points = ax.scatter(transfer.X["growth"], transfer.Y["share_of_capacity"],
                        c=transfer.X["years"], cmap="viridis")
    ax.set(xlabel="growth", ylabel="share_of_capacity",
           title=f"{len(transfer)} teacher runs of the transfer set")
    fig.colorbar(points, ax=ax, label="years")
    fig.savefig(out / "transfer_set.png")


if __name__ == "__main__":
    main()
