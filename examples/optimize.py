"""
Story 2: optimize, only where the system is stable
==================================================

The best inputs with few simulator runs, only among stable ones.

The shallow-lake problem: choose a constant pollution release (and face uncertain lake
dynamics) to maximize the economic utility, but only where the lake stays reliably clean
(reliability >= 0.9 -- the stability constraint). Bayesian optimization keeps the simulator in
the loop and spends a budget of teacher runs; the constraint gets its own surrogate. Then the
cheap alternative: fit one surrogate on a design and optimize it alone, with no further runs.

Run: ``python examples/optimize.py [--budget 30]`` (seconds at the default size).
"""

from __future__ import annotations

import argparse

import simulators
import surrogate as sg
from surrogate import plot
from surrogate.models import GPRegressor


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--budget", type=int, default=30, help="teacher runs for optimization")
    parser.add_argument("--n", type=int, default=100, help="design size for the surrogate-only search")
    args = parser.parse_args()
    lake = simulators.load("lake")

    result = sg.maximize(lake, output="utility", budget=args.budget,
                         constraints={"reliability": (">=", 0.9)}, seed=0)
    print(f"with the teacher in the loop ({result.n_evaluations} runs): utility "
          f"{result.y:.4f}, feasible {result.feasible}")
    print("    " + ", ".join(f"{k} = {v:.4g}" for k, v in result.x.items()))
    check = lake([result.x])
    print(f"    the teacher confirms: utility {check['utility'][0]:.4f}, "
          f"reliability {check['reliability'][0]:.3f}")
    plot.convergence(result)  # the figure: best feasible utility against teacher runs

    runs = lake.run(sg.sample(lake.space, args.n, seed=1))
    model = GPRegressor(seed=0).fit(runs.valid().X, -runs.valid().Y["utility"])
    cheap = sg.minimize_surrogate(model, lake.space, seed=0)
    print(f"on the surrogate alone ({args.n} runs, no constraint): predicted utility "
          f"{-cheap.y:.4f} at " + ", ".join(f"{k} = {v:.4g}" for k, v in cheap.x.items()))


if __name__ == "__main__":
    main()
