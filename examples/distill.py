"""
Distillation: a readable tree taught by a Gaussian process
==========================================================

Where is the smart grid stable? A small decision tree is easy to read but, fitted to a few
hundred teacher runs, it is not very accurate. A Gaussian-process classifier fitted to the same
runs is accurate but unreadable. Distillation lets the GP *teach* the tree: the GP labels a
large transfer set drawn from the space (its probabilities, "soft" labels), and the tree learns
from those instead of from the runs alone. Both trees are judged on fresh teacher runs they
never saw; the figure shows fidelity to the teacher and accuracy against the transfer-set size.

Run: ``python examples/distill.py [--n 300] [--transfer 20000] [--test 4000]``.
"""

from __future__ import annotations

import argparse

from sklearn.tree import DecisionTreeClassifier

import simulators
import surrogate as sg
from surrogate import plot


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=300, help="teacher runs to learn from")
    parser.add_argument("--transfer", type=int, default=20_000,
                        help="largest generated transfer set")
    parser.add_argument("--test", type=int, default=4000, help="fresh teacher runs to judge on")
    parser.add_argument("--leaves", type=int, default=16, help="leaves of the readable tree")
    args = parser.parse_args()
    grid = simulators.load("dsgc")

    runs = grid.run(sg.sample(grid.space, args.n, seed=0)).valid()
    stable = runs.Y["stab"].to_numpy() < 0
    test = grid.run(sg.sample(grid.space, args.test, method="random", seed=1)).valid()
    test_stable = test.Y["stab"].to_numpy() < 0

    teacher = sg.GPClassifier(seed=0).fit(runs.X, stable)
    tree = DecisionTreeClassifier(max_leaf_nodes=args.leaves, random_state=0)
    print(f"teacher (GP classifier on {len(stable)} runs): accuracy on {len(test_stable)} "
          f"fresh runs {(teacher.predict(test.X) == test_stable).mean():.3f}")
    direct = (tree.fit(runs.X, stable).predict(test.X) == test_stable).mean()
    print(f"tree fitted to the runs' labels: accuracy {direct:.3f}")

    sizes = sorted({max(args.transfer // 16, 200), max(args.transfer // 4, 400), args.transfer})
    taught = [sg.distill(teacher, tree, transfer="space", n=n, space=grid.space,
                         data=(runs.X, stable), seed=0) for n in sizes]
    fresh = [float((result.predict(test.X) == test_stable).mean()) for result in taught]
    for n, result, accuracy in zip(sizes, taught, fresh, strict=True):
        print(f"tree taught by the GP on {n} generated points: accuracy {accuracy:.3f}, "
              f"held-out agreement with the teacher {result.fidelity_['holdout_agreement']:.3f}")
    print(f"the taught tree's first splits:\n{_rules(taught[-1], grid)}")

    # the figure: fidelity against the transfer-set size, and accuracy on the fresh runs
    ax = plot.fidelity(taught, x="n")
    ax.plot(sizes, fresh, "k-o", label="taught tree: accuracy on fresh runs")
    ax.axhline(direct, color="grey", linestyle=":", label="tree fitted to the runs")
    ax.set_title(f"{args.leaves}-leaf tree taught by a GP classifier (DSGC)")
    ax.legend(loc="best")


def _rules(result: sg.Distillation, grid: sg.Simulator) -> str:
    from sklearn.tree import export_text

    return export_text(result.student_, feature_names=grid.space.names, max_depth=2)


if __name__ == "__main__":
    main()
