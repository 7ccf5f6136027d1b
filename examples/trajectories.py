"""
Trajectories: a surrogate of whole epidemics, and boxes over an outcome in time
===============================================================================

The SIR teacher returns, besides scalar outputs, the share of the population infected on
every second day of a year: a *field*. A field surrogate (principal components of the
trajectories + one batched GP) predicts whole trajectories with a 95% band, checked here
against fresh teacher runs. Then scenario discovery on a statement about the trajectory,
``max(I) > 0.2`` (the epidemic's peak infects more than a fifth of the population at once):
PRIM finds the box of parameters where that happens, and the trajectories inside and outside
the box show how well it separates them.

Run: ``python examples/trajectories.py [--n 150] [--test 200]`` (seconds).
"""

from __future__ import annotations

import argparse

import simulators
import surrogate as sg
from surrogate import plot
from surrogate.discovery import outcome
from surrogate.models import FieldGPRegressor


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=150, help="teacher runs to learn from")
    parser.add_argument("--test", type=int, default=200, help="fresh teacher runs to check on")
    args = parser.parse_args()
    sir = simulators.load("sir")

    runs = sir.run(sg.sample(sir.space, args.n, seed=0)).valid()
    test = sir.run(sg.sample(sir.space, args.test, method="random", seed=1)).valid()
    infected = runs.field("I")
    print(f"{len(runs)} runs; field I on {infected.shape[1]} grid points, days "
          f"{infected.columns[0]:g} to {infected.columns[-1]:g}")

    model = FieldGPRegressor(seed=0).fit(runs.X, infected)
    print(f"field surrogate: {model.n_components_} components; Q² over the whole field on "
          f"{len(test)} fresh runs {model.score(test.X, test.field('I')):.3f}")
    # the first figure: three fresh epidemics, predicted (line, 95% band) and simulated (dots)
    plot.fan(model, test.X.iloc[:3], test.field("I").iloc[:3])

    big = outcome("max(I) > 0.2", runs)
    prim = sg.PRIM().fit(runs.X, big)
    box = prim.box(min_density=min(0.9, float(prim.trajectory_["density"].max())))
    held_out = box.evaluate(test.X, outcome("max(I) > 0.2", test))
    print(f"{int(big.sum())} of {len(big)} epidemics peak above 20% infected")
    print(f"PRIM: max(I) > 0.2 when {box.rules()}")
    print(f"    on the fresh runs: coverage {held_out['coverage']:.2f}, "
          f"density {held_out['density']:.2f}")
    # the second figure: the trajectories inside and outside the box, red where max(I) > 0.2
    plot.trajectories(test, "I", "max(I) > 0.2", box=box)  # laid out by matplotlib already


if __name__ == "__main__":
    main()
