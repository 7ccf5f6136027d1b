"""
Story 1: wrap your own simulation as a teacher and get a trustworthy surrogate
==============================================================================

A predator-prey model written as a plain Python function becomes a teacher over a typed space;
a Latin-hypercube design runs on local processes with a checkpoint; a Gaussian process learns
each output, and its accuracy is measured by cross-validation (Q², RMSE, and how often the true
value falls in the 95% interval) and on fresh teacher runs it never saw.

Run: ``python examples/teacher.py [--n 120] [--test 200]`` (seconds at the default size).
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np

import surrogate as sg
from surrogate import plot
from surrogate.models import GPRegressor, cross_validate

SPACE = sg.Space([
    sg.Real("birth", 0.5, 1.5),        # prey birth rate
    sg.Real("predation", 0.01, 0.05),  # prey eaten per predator and prey
    sg.Real("death", 0.3, 0.8),        # predator death rate
    sg.Integer("years", 10, 30),       # simulated horizon
])


def predator_prey(birth: float, predation: float, death: float, years: int) -> dict[str, float]:
    """Euler steps of the Lotka-Volterra equations; returns the peak and mean predators."""
    prey, predators, dt = 40.0, 9.0, 0.01
    peak, total, steps = predators, 0.0, int(years / dt)
    for _ in range(steps):
        prey, predators = (prey + dt * (birth * prey - predation * prey * predators),
                           predators + dt * (0.5 * predation * prey * predators - death * predators))
        peak = max(peak, predators)
        total += predators
    return {"peak_predators": peak, "mean_predators": total / steps}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=120, help="teacher runs for training")
    parser.add_argument("--test", type=int, default=200, help="fresh teacher runs for testing")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="surrogate-teacher-"))
    out.mkdir(parents=True, exist_ok=True)

    teacher = sg.Simulator(predator_prey, SPACE, ["peak_predators", "mean_predators"])
    design = sg.sample(SPACE, args.n, method="lhs", seed=0)
    runs = teacher.run(design, executor="processes", n_workers=2, checkpoint=out / "runs")
    print(runs)
    valid = runs.valid()
    fresh = sg.sample(SPACE, args.test, method="random", seed=1)
    truth = teacher(fresh)
    for output in teacher.outputs:
        scores = cross_validate(GPRegressor(seed=0), valid.X, valid.Y[output], cv=5, seed=0)
        model = GPRegressor(seed=0).fit(valid.X, valid.Y[output])
        mean, std = model.predict(fresh, return_std=True)
        inside = np.abs(truth[output].to_numpy() - mean) <= 1.96 * std
        print(f"{output}: cross-validated Q2 {scores['q2']:.3f}, coverage95 "
              f"{scores['coverage95']:.2f}; on {args.test} fresh runs Q2 "
              f"{model.score(fresh, truth[output]):.3f}, coverage95 {inside.mean():.2f}")
        model.save(out / "models" / output)
        # the figure: out-of-fold predictions against the teacher, with 95% intervals
        ax = plot.parity_predictions(valid.Y[output], scores["y_pred"], scores["y_std"],
                                     label=f"{output}: 5-fold cross-validated")
        ax.figure.savefig(out / f"parity_{output}.png")
    print(f"transfer set and models saved under {out}")


if __name__ == "__main__":
    main()
