"""
Story 3: discover where the smart grid is stable, PRIM boxes vs REDS boxes
==========================================================================

The DSGC model says whether a 4-node grid with decentral price control is stable (stab < 0).
PRIM finds a box of parameters from the teacher runs alone; REDS fits a metamodel to the same
runs, labels a large fresh sample with it, and runs PRIM on that. Both boxes are then judged on
fresh teacher runs they never saw: coverage (share of the stable cases inside the box) and density
(share of stable cases among the points in the box), and PR AUC over the whole trajectory.

Run: ``python examples/discover.py [--n 400] [--test 4000]`` (seconds at the default size).
"""

from __future__ import annotations

import argparse

import simulators
import surrogate as sg
from surrogate import plot


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=400, help="teacher runs to learn from")
    parser.add_argument("--test", type=int, default=4000, help="fresh teacher runs to judge on")
    parser.add_argument("--samples", type=int, default=50_000, help="REDS's fresh sample")
    args = parser.parse_args()
    grid = simulators.load("dsgc")

    runs = grid.run(sg.sample(grid.space, args.n, seed=0)).valid()
    stable = runs.Y["stab"].to_numpy() < 0
    test = grid.run(sg.sample(grid.space, args.test, method="random", seed=1)).valid()
    test_stable = test.Y["stab"].to_numpy() < 0
    print(f"{stable.sum()} of {len(stable)} training runs are stable")

    prim = sg.PRIM().fit(runs.X, stable)
    reds = sg.REDS(n_samples=args.samples, seed=0).fit(runs.X, stable, space=grid.space)
    for name, model in (("PRIM", prim), ("REDS", reds)):
        box = model.box(min_density=min(0.8, float(model.trajectory_["density"].max())))
        held_out = box.evaluate(test.X, test_stable)
        print(f"{name}: stable when {box.rules()}")
        print(f"    on {len(test_stable)} fresh runs: coverage {held_out['coverage']:.2f}, "
              f"density {held_out['density']:.2f}; PR AUC of the trajectory (above the base rate) "
              f"{sg.pr_auc(model, test.X, test_stable):.3f}")
        # the figures: the trajectory's trade-off, and the chosen box over the fresh runs
        plot.tradeoff(model).set_title(f"{name}: coverage against density")
        plot.box(box, test.X, test_stable)


if __name__ == "__main__":
    main()
