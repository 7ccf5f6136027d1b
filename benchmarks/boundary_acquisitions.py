"""The boundary goal's acquisitions side by side: what each does for the boxes and for the edge.

For ``adaptive_sample(goal=...)`` with the default (targeted integrated variance reduction,
tIMSE, Picheny et al. 2010), AK-MCS's U-function (Echard et al. 2011) and the straddle (Bryan et
al. 2005), from the same initial designs (budget 200, batches of 20, seeds 0-3), on four cases
of ``benchmarks/adaptive.py``: dsgc stable, lake reliability >= 0.9, borehole > 100 and
piston < 0.4. Scored on the 20,000 held-out runs of that benchmark after N = 100 and 200 runs:

* **PR AUC** of REDS (GP metamodel with the threshold) fitted on the design's first N runs: the
  boxes, what the goal is for;
* **misclassified**: the share of the held-out runs that our GP fitted on the same runs puts on
  the wrong side of the threshold: the edge itself (as in ``adaptive_boundary_peers``).

Design seconds are the wall time of the 200-run loop (no teacher cost to speak of).
"""

from __future__ import annotations

import time
import warnings
from typing import Any

import numpy as np
import pandas as pd

from benchmarks._common import markdown_table

DESCRIPTION = ("Boundary-goal acquisitions (tIMSE default, U-function, straddle): REDS PR AUC "
               "and GP misclassification after 100 and 200 runs")

PROBLEMS = ("dsgc stable", "lake reliability >= 0.9", "borehole > 100", "piston < 0.4")
SIZES = (100, 200)
REPS = 4


def _goal(label: str, threshold: tuple[str, float]) -> Any:
    from surrogate.sequential import Straddle, UFunction

    return {"tIMSE (default)": "boundary", "U-function": UFunction(threshold),
            "straddle": Straddle(threshold)}[label]


def _rep(problem: str, label: str, rep: int, sizes: tuple[int, ...],
         test: tuple[pd.DataFrame, np.ndarray]) -> list[dict[str, Any]]:
    import simulators
    from benchmarks.adaptive import BATCH, DISCOVERY, _score_boxes
    from benchmarks.adaptive_boundary_peers import _misclassified
    from surrogate.sequential import adaptive_sample

    name, output, threshold = DISCOVERY[problem]
    goal = _goal(label, threshold)
    start = time.perf_counter()
    design = adaptive_sample(simulators.load(name), output=output, goal=goal,
                             threshold=threshold if goal == "boundary" else None,
                             budget=max(sizes), batch_size=BATCH, seed=rep, progress=False)
    seconds = time.perf_counter() - start
    runs = design.runs
    rows = []
    for n in sizes:
        ok = np.asarray(runs.ok[:n])
        X, values = runs.X.iloc[:n][ok], runs.Y[output].to_numpy(float)[:n][ok]
        rows.append({"problem": problem, "acquisition": label, "N": n, "rep": rep,
                     "pr_auc": _score_boxes("REDS (GP)", X, values, threshold, rep, test),
                     "misclassified_pct": 100 * _misclassified(X.reset_index(drop=True),
                                                               values, threshold, rep, test),
                     "design_seconds": seconds})
    return rows


def run(quick: bool = False) -> tuple[dict[str, Any], str]:
    from benchmarks.adaptive import _test_set

    problems = PROBLEMS[:2] if quick else PROBLEMS
    reps = 1 if quick else REPS
    sizes = (60, 100) if quick else SIZES
    rows: list[dict[str, Any]] = []
    for problem in problems:
        test = _test_set(problem)
        for label in ("tIMSE (default)", "U-function", "straddle"):
            for rep in range(reps):
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    rows += _rep(problem, label, rep, sizes, test)
            print(problem, label, "done", flush=True)
    frame = pd.DataFrame(rows)
    summary = (frame.groupby(["problem", "acquisition", "N"], sort=False)
               .agg(reps=("rep", "size"), pr_auc=("pr_auc", "mean"),
                    misclassified_pct=("misclassified_pct", "mean"),
                    design_seconds=("design_seconds", "median"))
               .reset_index().round({"pr_auc": 4, "misclassified_pct": 3,
                                     "design_seconds": 1}))
    table = ("Mean over seeds 0-" + str(reps - 1) + " (design seconds: median). PR AUC: REDS "
             "(GP) on the first N runs, higher is better; misclassified: % of 20,000 held-out "
             "runs our GP on the same runs puts on the wrong side, lower is better.\n\n"
             + markdown_table(summary.to_dict("records")))
    return {"rows": rows, "summary": summary.to_dict("records")}, table
