"""Part ``loop`` of ``python -m benchmarks mixed``: the sequential loop's student on categories.

The loop moves points in the unit cube, where a categorical parameter of k levels owns k equal
cells. Since 2026-12-03 its GP reads each cell as a level and models it with the kernel for
categories (``categorical="auto"``); before, it modelled the cells' centres as ordered numbers.
This part runs both on the mixed problems of :mod:`benchmarks.mixed` -- the *ordered* arm by
handing the loop no categorical columns (``categorical_cells`` returning ``{}``), which is what
the loop did before -- with the same seeds:

* an adaptive design (``goal="accuracy"``, ``BUDGET_ADAPTIVE`` runs): held-out Q² of its model
  on ``N_TEST`` random points;
* Bayesian optimization (``sg.minimize``, ``BUDGET_BO`` evaluations): the best value found,
  against the least of the ``N_TEST`` test points (a reference, not the exact minimum).

Run: ``python -m benchmarks mixed --part loop`` (results/mixed-loop.*).
"""

from __future__ import annotations

import time
import warnings
from contextlib import contextmanager
from typing import Any

import pandas as pd

BUDGET_ADAPTIVE = 40
BUDGET_BO = 30
SEEDS = 5
N_TEST = 5_000
ARMS = ("categorical kernel", "ordered cells (before)")


@contextmanager
def _arm(name: str) -> Any:
    """The loop as it is, or as it was: no column read as categories."""
    import surrogate.optimize._loop as bo
    import surrogate.sequential._adaptive as adaptive

    saved = bo.categorical_cells, adaptive.categorical_cells
    if name == ARMS[1]:
        bo.categorical_cells = adaptive.categorical_cells = lambda space: {}
    try:
        yield
    finally:
        bo.categorical_cells, adaptive.categorical_cells = saved


def run(problems: dict[str, Any]) -> tuple[dict[str, Any], str]:
    import surrogate as sg
    from benchmarks._common import markdown_table

    rows: list[dict[str, Any]] = []
    for problem, make in problems.items():
        space, teacher = make()
        Xt = sg.sample(space, N_TEST, method="random", seed=1)
        yt = teacher(Xt)
        sim = sg.Simulator(lambda X, f=teacher: pd.DataFrame({"y": f(X)}, index=X.index),
                           space, outputs=["y"], vectorized=True, name=problem)
        for arm in ARMS:
            for seed in range(SEEDS):
                row: dict[str, Any] = {"problem": problem, "arm": arm, "seed": seed}
                with _arm(arm), warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    start = time.perf_counter()
                    design = sg.adaptive_sample(sim, goal="accuracy", budget=BUDGET_ADAPTIVE,
                                                seed=seed, progress=False)
                    row["adaptive_s"] = time.perf_counter() - start
                    row["q2"] = float(design.model.score(Xt, yt))
                    start = time.perf_counter()
                    found = sg.minimize(sim, output="y", budget=BUDGET_BO, seed=seed)
                    row["bo_s"] = time.perf_counter() - start
                row["best"] = float(found.y)
                row["gap"] = float(found.y - yt.min())
                print(row, flush=True)
                rows.append(row)
    frame = pd.DataFrame(rows)
    summary = []
    for (problem, arm), cell in frame.groupby(["problem", "arm"], sort=False):
        summary.append({
            "problem": problem, "arm": arm,
            f"Q² after {BUDGET_ADAPTIVE} adaptive runs (median)": f"{cell['q2'].median():.4f}",
            "Q² (min - max)": f"{cell['q2'].min():.4f} - {cell['q2'].max():.4f}",
            f"BO best - test min after {BUDGET_BO} (median)": f"{cell['gap'].median():.4g}",
            "BO gap (max)": f"{cell['gap'].max():.4g}",
            "seconds per design / per BO": f"{cell['adaptive_s'].median():.1f} / "
                                           f"{cell['bo_s'].median():.1f}"})
    table = (
        f"The loop's student with the kernel for categories against the ordered cells it used "
        f"before, same seeds ({SEEDS} per cell): held-out Q² on {N_TEST:,} random points of an "
        f"accuracy design's model, and the best value Bayesian optimization found minus the "
        f"least test point's (below 0: better than every test point).\n\n"
        + markdown_table(summary) + "\n## Per seed\n\n" + markdown_table(rows))
    return {"rows": rows, "summary": summary, "n_test": N_TEST}, table

