"""Adaptive transfer sets (``surrogate.sequential.adaptive_sample``) against one-shot designs.

Four parts, one run (``python -m benchmarks adaptive``; one part alone:
``python -m benchmarks adaptive --part accuracy``, written to ``results/adaptive-accuracy.*``):

1. **Discovery**: PR AUC (above the base rate, :func:`surrogate.pr_auc`) on 20,000 held-out
   uniform runs of the boxes found from N teacher runs, for REDS on ``goal="boundary"`` runs
   against REDS and PRIM on one-shot Latin hypercubes. REDS labels 20,000 fresh points (as in
   ``benchmarks/reds.py``) with one of two metamodels: HistGradientBoosting on the 0/1 case
   (REDS's default before AutoClassifier, kept so the figures compare over time) or a GP regression of the output with the threshold
   (``REDS(threshold=...)``, the same student the adaptive design uses). Cases of interest
   from ``benchmarks/reds.py``: dsgc stable (stab < 0), borehole y > 100, otl_circuit y < 4.5,
   piston y < 0.4, wing_weight y < 250; and the lake problem's reliable policies,
   reliability >= 0.9 (the case of interest of ``simulators/configs/lake.toml``). The
   adaptive runs of N = 100 are the first 100 of the N = 200 design (a design's first runs do
   not depend on its budget). "Runs to reach" is the
   smallest N whose mean PR AUC reaches the target: one-shot REDS (HistGradientBoosting) at
   N = 800. The ceiling is PRIM on the true labels of the 20,000 test runs (scored on them).
2. **Accuracy**: teacher runs until the GP's held-out Q² (5,000 uniform points) reaches 0.99
   and 0.999, ``goal="accuracy"`` (an initial Latin hypercube of ``2 d + 1`` runs, then batches
   of 2; of 10 for ishigami and dsgc, whose targets lie hundreds of runs out) against GPs on
   Latin hypercubes of the same sizes (``2 d + 1``, ``2 d + 3``, ...: the first size reaching
   it), on the same unit-cube coordinates, so that both are counted at the same granularity.
   Both designs are scored the same way: a GP fitted afresh on the design's runs
   (``GPRegressor(seed=rep)``, what a user fits on a finished design), not the loop's own
   student, whose length scales are re-optimized only every 20 % of growth. The adaptive
   design stops at the held-out target through a benchmark-only acquisition whose fidelity is
   that fresh GP's held-out Q² (the choice of runs is the default one; the held-out set only
   says when to stop counting). (``results/adaptive.md`` section 2 is the earlier measurement:
   batches of 10, scored by the loop's own student; ``--part accuracy`` writes the current one
   to ``results/adaptive-accuracy.md``.) Capped at 200 runs (400 for
   ishigami, where a GP needs more than 200 for 0.99). Where neither reaches a target, the
   table compares their Q² at the largest run count both ran.
3. Peers: Emukit's experimental-design loop on the accuracy task, in its own module
   (``python -m benchmarks adaptive_peers``); UQpy's AK-MCS U-function loop on the boundary task
   (``python -m benchmarks adaptive_boundary_peers``).
4. **Bayesian optimization after the refactor**: ``minimize`` on Hartmann6 (80 evaluations, 10
   initial points, seeds 0-9) and Branin (40 evaluations, 5 initial points, seeds 0-4), the
   settings of ``benchmarks/optimize.py``: seeds reaching regret < 0.1 (Hartmann6) and < 1e-2
   (Branin), evaluations to get there. ``tests/sequential/test_bo_unchanged.py`` shows the
   points are those of the loop before the refactor.
5. **Overhead per round** (fitting, assessing, maximizing the acquisition; no teacher cost):
   ``goal="accuracy"`` on borehole after 100 and 1,000 runs, for a round that re-optimizes the
   hyperparameters and for a round that conditions the GP on the new run (the schedule makes
   that the usual round: hyperparameters every 20 % growth), and one ``minimize`` round on
   Hartmann6 after 100 runs.

Repetitions: 10 for every discovery problem and every accuracy function, 10 Hartmann6 seeds
and 5 Branin seeds for Bayesian optimization. ``--quick`` runs one repetition of a few cells.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from benchmarks._common import markdown_table

DESCRIPTION = ("Adaptive transfer sets: discovery (REDS on boundary runs vs one-shot REDS/PRIM, "
               "PR AUC on 20,000 held-out runs), accuracy (runs to held-out Q² 0.99 / 0.999 vs "
               "LHS), Bayesian optimization after the refactor, overhead per round")

N_TEST = 20_000
N_SAMPLES = 20_000  # REDS's fresh sample, as in benchmarks/reds.py
N_HOLDOUT = 5_000
BATCH = 20  # discovery designs: runs per round
ACCURACY_BATCH = 2  # runs per round of the accuracy designs: the granularity of the count
ACCURACY_BATCHES = {"ishigami": 10, "dsgc": 10}  # targets hundreds of runs out
ACCURACY_CAP = 200
ACCURACY_CAPS = {"ishigami": 400}  # Q² 0.99 takes a GP more than 200 runs there
ACCURACY_REPS = 10
DISCOVERY_REPS = 10
Q2_TARGETS = (0.99, 0.999)

# name -> (simulator, output, threshold); the cases of benchmarks/reds.py
DISCOVERY = {
    "dsgc stable": ("dsgc", "stab", ("<", 0.0)),
    "borehole > 100": ("borehole", "y", (">", 100.0)),
    "otl_circuit < 4.5": ("otl_circuit", "y", ("<", 4.5)),
    "piston < 0.4": ("piston", "y", ("<", 0.4)),
    "wing_weight < 250": ("wing_weight", "y", ("<", 250.0)),
    "lake reliability >= 0.9": ("lake", "reliability", (">=", 0.9)),
}
ACCURACY = {"borehole": "y", "ishigami": "y", "otl_circuit": "y", "wing_weight": "y",
            "piston": "y", "dsgc": "stab"}


# -- 1. discovery ------------------------------------------------------------------------------
def _labels(values: np.ndarray, threshold: tuple[str, float]) -> np.ndarray:
    from surrogate.sequential._constraint import Constraint

    op, value = threshold
    return Constraint("y", op, value).satisfied(values)


def _reds(kind: str, threshold: tuple[str, float], seed: int) -> Any:
    from sklearn.ensemble import HistGradientBoostingClassifier

    from surrogate.discovery import REDS
    from surrogate.models import GPRegressor

    if kind == "gp":
        return REDS(metamodel=GPRegressor(seed=seed), threshold=threshold, n_samples=N_SAMPLES,
                    cv=None, seed=seed)
    return REDS(metamodel=HistGradientBoostingClassifier(random_state=seed),
                n_samples=N_SAMPLES, cv=None, seed=seed)


def _score_boxes(method: str, X: pd.DataFrame, values: np.ndarray, threshold: tuple[str, float],
                 seed: int, test: tuple[pd.DataFrame, np.ndarray]) -> float:
    """PR AUC on the test runs of the boxes ``method`` finds from the runs ``(X, values)``."""
    from surrogate.discovery import PRIM, pr_auc

    y = _labels(values, threshold)
    if y.all() or not y.any():
        return float("nan")
    if method == "PRIM":
        model = PRIM().fit(X, y)
    elif method == "REDS (GP)":
        model = _reds("gp", threshold, seed).fit(X, values)
    else:
        model = _reds("hgb", threshold, seed).fit(X, y)
    return float(pr_auc(model, *test))


def _discovery_rep(problem: str, rep: int, sizes: dict[str, tuple[int, ...]],
                   test: tuple[pd.DataFrame, np.ndarray]) -> list[dict[str, Any]]:
    import simulators
    from surrogate.design import sample
    from surrogate.sequential import adaptive_sample

    name, output, threshold = DISCOVERY[problem]
    sim = simulators.load(name)
    rows = []
    start = time.perf_counter()
    design = adaptive_sample(sim, output=output, goal="boundary", threshold=threshold,
                             budget=max(sizes["adaptive"]), batch_size=BATCH, seed=rep,
                             progress=False)
    design_seconds = time.perf_counter() - start
    runs = design.runs
    for n in sizes["adaptive"]:
        ok = runs.ok[:n]
        X, values = runs.X.iloc[:n][ok], runs.Y[output].to_numpy()[:n][ok]
        for method in ("REDS (GP)", "REDS (hgb)"):
            rows.append({"problem": problem, "design": "adaptive", "method": method, "N": n,
                         "rep": rep, "pr_auc": _score_boxes(method, X, values, threshold, rep,
                                                            test),
                         "design_seconds": design_seconds})
    for n in sizes["lhs"]:
        X = sample(sim.space, n, method="lhs", seed=1000 * rep + n)
        values = sim(X)[output].to_numpy()
        ok = np.isfinite(values)
        for method in ("PRIM", "REDS (hgb)", "REDS (GP)"):
            if method == "REDS (GP)" and n > max(sizes["adaptive"]):
                continue  # the GP metamodel is compared at the adaptive design's sizes
            rows.append({"problem": problem, "design": "LHS", "method": method, "N": n,
                         "rep": rep, "pr_auc": _score_boxes(method, X[ok], values[ok],
                                                            threshold, rep, test)})
    return rows


def _ceiling(test: tuple[pd.DataFrame, np.ndarray]) -> float:
    """PR AUC of PRIM fitted on the test runs' true labels (scored on them): about what REDS,
    whose sample has the test set's size, would reach with perfect labels."""
    from surrogate.discovery import PRIM, pr_auc

    return float(pr_auc(PRIM().fit(*test), *test))


def _test_set(problem: str) -> tuple[pd.DataFrame, np.ndarray]:
    import simulators
    from surrogate.design import sample

    name, output, threshold = DISCOVERY[problem]
    sim = simulators.load(name)
    X = sample(sim.space, N_TEST, method="random", seed=12345)
    return X, _labels(sim(X)[output].to_numpy(), threshold)


def _discovery_summary(rows: list[dict[str, Any]], ceilings: dict[str, float]
                       ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    frame = pd.DataFrame(rows)
    cells = (frame.groupby(["problem", "design", "method", "N"], sort=False)["pr_auc"]
             .agg(["mean", "std", "count"]).reset_index())
    table, reach = [], []
    for problem, group in cells.groupby("problem", sort=False):
        one_shot = group[(group.design == "LHS") & (group.method == "REDS (hgb)")]
        target = float(one_shot.loc[one_shot.N.idxmax(), "mean"])
        for row in group.itertuples():
            table.append({"problem": problem, "design": row.design, "method": row.method,
                          "N": row.N, "reps": row.count, "pr_auc": row.mean,
                          "pr_auc_sd": row.std})
        for (design, method), cell in group.groupby(["design", "method"], sort=False):
            hits = cell[cell["mean"] >= target - 1e-12]
            reach.append({"problem": problem, "design": design, "method": method,
                          "target (LHS REDS hgb, max N)": target,
                          "runs to reach": int(hits.N.min()) if len(hits) else
                          f"> {int(cell.N.max())}",
                          "best pr_auc": float(cell["mean"].max()),
                          "ceiling": ceilings.get(str(problem))})
    return table, reach


def run_discovery(quick: bool) -> dict[str, Any]:
    problems = ["dsgc stable"] if quick else list(DISCOVERY)
    rows: list[dict[str, Any]] = []
    ceilings = {}
    for problem in problems:
        reps = 1 if quick else DISCOVERY_REPS
        sizes = {"adaptive": (100,) if quick else (100, 200),
                 "lhs": (100, 200) if quick else (100, 200, 400, 800)}
        test = _test_set(problem)
        start = time.perf_counter()
        for rep in range(reps):
            rows += _discovery_rep(problem, rep, sizes, test)
        ceilings[problem] = _ceiling(test)
        print(f"discovery {problem}: {time.perf_counter() - start:.0f} s", flush=True)
    table, reach = _discovery_summary(rows, ceilings)
    return {"rows": rows, "table": table, "reach": reach}


# -- 2. accuracy -------------------------------------------------------------------------------
def _held_out_acquisition(space: Any, X_test: pd.DataFrame, y_test: np.ndarray,
                          seed: int) -> Any:
    """The default accuracy acquisition, its fidelity replaced by the held-out Q² of a GP
    fitted afresh on the runs so far (as the LHS designs are scored)."""
    from surrogate.models import GPRegressor, q2
    from surrogate.sequential import VarianceReduction

    unit = space.to_unit(X_test)

    class HeldOut(VarianceReduction):
        fidelity_name = "q2_holdout"

        def fidelity(self, student: Any, data: Any) -> float:
            gp = GPRegressor(seed=seed).fit(data.unit[data.ok], data.values[data.ok][:, 0])
            return q2(y_test, gp.predict(unit))

        def __repr__(self) -> str:
            return "HeldOut()"

    return HeldOut()


def _accuracy_rep(name: str, output: str, rep: int, cap: int,
                  batch: int | None = None) -> dict[str, Any]:
    import simulators
    from surrogate.design import sample
    from surrogate.models import GPRegressor, q2
    from surrogate.sequential import adaptive_sample

    sim = simulators.load(name)
    X_test = sample(sim.space, N_HOLDOUT, method="random", seed=4242)
    y_test = sim(X_test)[output].to_numpy()
    keep = np.isfinite(y_test)
    X_test, y_test = X_test[keep], y_test[keep]
    acquisition = _held_out_acquisition(sim.space, X_test, y_test, rep)
    batch = ACCURACY_BATCHES.get(name, ACCURACY_BATCH) if batch is None else batch
    start = time.perf_counter()
    design = adaptive_sample(sim, output=output, goal=acquisition, budget=cap,
                             batch_size=batch, target=max(Q2_TARGETS), seed=rep,
                             progress=False)
    seconds = time.perf_counter() - start
    curve = design.history[["n_runs", "q2_holdout"]].to_numpy()
    row: dict[str, Any] = {"function": name, "rep": rep, "adaptive_seconds": seconds,
                           "adaptive_curve": curve.tolist(), "lhs_curve": []}
    for target in Q2_TARGETS:
        hits = curve[curve[:, 1] >= target, 0]
        row[f"adaptive {target}"] = float(hits.min()) if len(hits) else float("inf")
    unit_test = sim.space.to_unit(X_test)  # the coordinates the adaptive design's GP sees
    for n in _lhs_sizes(int(curve[0, 0]), cap, batch):  # the adaptive design's sizes, then on
        X = sample(sim.space, n, method="lhs", seed=1000 * rep + n)
        y = sim(X)[output].to_numpy()
        ok = np.isfinite(y)
        gp = GPRegressor(seed=rep).fit(sim.space.to_unit(X)[ok], y[ok])
        score = q2(y_test, gp.predict(unit_test))
        row["lhs_curve"].append([n, score])
        if score >= max(Q2_TARGETS):
            break
    lhs = np.array(row["lhs_curve"])
    for target in Q2_TARGETS:
        hits = lhs[lhs[:, 1] >= target, 0]
        row[f"lhs {target}"] = float(hits.min()) if len(hits) else float("inf")
    return row


def _lhs_sizes(n_init: int, cap: int, batch: int) -> list[int]:
    """The sizes an adaptive design of ``n_init`` initial runs and batches of ``batch``
    passes through, up to ``cap``: LHS designs are scored at the same counts."""
    return sorted({*range(n_init, cap + 1, batch), cap})


def run_accuracy(quick: bool) -> dict[str, Any]:
    functions = {"borehole": "y"} if quick else ACCURACY
    reps = 1 if quick else ACCURACY_REPS
    rows = []
    caps = {}
    for name, output in functions.items():
        start = time.perf_counter()
        caps[name] = 100 if quick else ACCURACY_CAPS.get(name, ACCURACY_CAP)
        for rep in range(reps):
            rows.append(_accuracy_rep(name, output, rep, caps[name]))
        print(f"accuracy {name}: {time.perf_counter() - start:.0f} s", flush=True)
    summary = []
    for name in functions:
        mine = [r for r in rows if r["function"] == name]
        for target in Q2_TARGETS:
            adaptive = np.array([r[f"adaptive {target}"] for r in mine])
            lhs = np.array([r[f"lhs {target}"] for r in mine])
            cap = caps[name]
            both = np.isfinite(np.median(adaptive) + np.median(lhs))
            common = [_common_q2(r) for r in mine]  # (n, adaptive Q², LHS Q²) per rep
            summary.append({
                "function": name, "target Q²": target, "reps": len(mine),
                "adaptive runs (median)": _fmt_runs(np.median(adaptive), cap),
                "LHS runs (median)": _fmt_runs(np.median(lhs), cap),
                "ratio adaptive / LHS": (float(np.median(adaptive) / np.median(lhs)) if both
                                         else None),
                "at N (largest both ran)": int(np.median([c[0] for c in common])),
                "Q² adaptive at N (median)": float(np.median([c[1] for c in common])),
                "Q² LHS at N (median)": float(np.median([c[2] for c in common])),
            })
    return {"rows": rows, "summary": summary, "caps": caps}


def _common_q2(row: dict[str, Any]) -> tuple[int, float, float]:
    """The largest run count both curves of a repetition reached, and their Q² there."""
    adaptive = {int(n): q for n, q in row["adaptive_curve"]}
    lhs = {int(n): q for n, q in row["lhs_curve"]}
    n = max(set(adaptive) & set(lhs))
    return n, adaptive[n], lhs[n]


def _accuracy_verdict(summary: list[dict[str, Any]]) -> str:
    ratios = [r["ratio adaptive / LHS"] for r in summary if r["ratio adaptive / LHS"] is not None]
    if not ratios:
        return ""
    worse = [f"{r['function']} {r['target Q²']}" for r in summary
             if r["ratio adaptive / LHS"] is not None and r["ratio adaptive / LHS"] > 1.1]
    return (f"\nMean ratio over the {len(ratios)} cells both designs reached: "
            f"{np.mean(ratios):.3f} (target <= 0.7); worse than LHS by more than 10 %: "
            f"{', '.join(worse) if worse else 'none'}.\n")


def _fmt_runs(value: float, cap: int) -> Any:
    return f"> {cap}" if not np.isfinite(value) else float(value)


# -- 4. Bayesian optimization ------------------------------------------------------------------
def run_optimization(quick: bool) -> dict[str, Any]:
    import simulators
    from simulators import functions
    from surrogate.optimize import minimize

    problems = {"branin": (40, 5, 1e-2, functions.BRANIN_MINIMUM, range(5)),
                "hartmann6": (80, 10, 0.1, functions.HARTMANN6_MINIMUM, range(10))}
    if quick:
        problems = {"branin": (14, 5, 1e-1, functions.BRANIN_MINIMUM, range(2))}
    rows, summary = [], []
    for name, (budget, n_init, target, minimum, seeds) in problems.items():
        sim = simulators.load(name)
        start = time.perf_counter()
        for seed in seeds:
            result = minimize(sim, budget=budget, n_init=n_init, seed=seed)
            regret = result.best_so_far() - minimum
            hits = np.flatnonzero(regret < target)
            rows.append({"problem": name, "seed": seed, "final_regret": float(regret[-1]),
                         "evaluations_to_target": float(hits[0] + 1) if len(hits)
                         else float("inf")})
        mine = [r for r in rows if r["problem"] == name]
        to_target = np.array([r["evaluations_to_target"] for r in mine])
        reached = to_target[np.isfinite(to_target)]
        summary.append({
            "problem": name, "budget": budget, "target regret": target,
            "seeds reaching target": f"{len(reached)}/{len(mine)}",
            "median evals, seeds reaching": float(np.median(reached)) if len(reached) else "-",
            "median final regret": float(np.median([r["final_regret"] for r in mine])),
            "seconds": time.perf_counter() - start,
        })
        print(f"optimization {name}: {time.perf_counter() - start:.0f} s", flush=True)
    return {"rows": rows, "summary": summary}


# -- 5. overhead -------------------------------------------------------------------------------
def _overhead_adaptive(n: int) -> list[dict[str, Any]]:
    import simulators
    from surrogate.sequential import adaptive_sample

    sim = simulators.load("borehole")
    design = adaptive_sample(sim, budget=n + 2, n_init=n, seed=0, progress=False)
    history = design.history
    # row 0: the student on the n initial runs (a full fit) and its LOO; row 1: proposing the
    # run of round 1, then the student conditioned on n + 1 runs and its LOO
    return [
        {"loop": "adaptive accuracy (borehole)", "runs": n,
         "round": "hyperparameters re-optimized (fit + LOO)",
         "seconds": float(history["student_seconds"].iloc[0])},
        {"loop": "adaptive accuracy (borehole)", "runs": n,
         "round": "conditioned (acquisition + condition + LOO)",
         "seconds": float(history["student_seconds"].iloc[1])},
    ]


def _overhead_optimization(n: int) -> dict[str, Any]:
    import simulators
    from surrogate.optimize import minimize

    sim = simulators.load("hartmann6")
    start = time.perf_counter()
    minimize(sim, budget=n, n_init=n, seed=0)
    initial = time.perf_counter() - start
    start = time.perf_counter()
    minimize(sim, budget=n + 1, n_init=n, seed=0)
    return {"loop": "minimize (hartmann6)", "runs": n, "round": "fit + log EI maximization",
            "seconds": time.perf_counter() - start - initial}


def run_overhead(quick: bool) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for n in ((100,) if quick else (100, 1000)):
        start = time.perf_counter()
        rows += _overhead_adaptive(n)
        print(f"overhead adaptive n={n}: {time.perf_counter() - start:.0f} s", flush=True)
    rows.append(_overhead_optimization(100))
    return rows


# -- report ------------------------------------------------------------------------------------
PARTS = ("discovery", "accuracy", "optimization", "overhead")


def run(quick: bool, parts: list[str] | None = None) -> tuple[dict[str, Any], str]:
    """Every part, or the named ones (``python -m benchmarks adaptive --part accuracy``)."""
    runners: dict[str, Callable[[bool], Any]] = {
        "discovery": run_discovery, "accuracy": run_accuracy,
        "optimization": run_optimization, "overhead": run_overhead,
    }
    results: dict[str, Any] = {}
    seconds: dict[str, float] = {}
    for name in parts or PARTS:
        part = runners[name]
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            results[name] = part(quick)
        seconds[name] = time.perf_counter() - start
    results["seconds"] = seconds
    return results, _markdown(results)


def _markdown(results: dict[str, Any]) -> str:
    text = ""
    if "discovery" in results:
        discovery = results["discovery"]
        text += "## 1. Discovery: teacher runs to reach one-shot REDS's PR AUC at N = 800\n\n"
        text += markdown_table(discovery["reach"])
        text += "\n### PR AUC per design, method and N (mean over repetitions)\n\n"
        text += markdown_table(discovery["table"])
    if "accuracy" in results:
        text += "\n## 2. Accuracy: teacher runs to reach held-out Q²\n\n"
        text += markdown_table(results["accuracy"]["summary"])
        text += _accuracy_verdict(results["accuracy"]["summary"])
    if set(PARTS) <= set(results):  # the whole run: say where the peers are
        text += ("\n## 3. Peers\n\nEmukit's experimental-design loop on the accuracy task: "
                 "`python -m benchmarks adaptive_peers` (results/adaptive_peers.md); UQpy's "
                 "AK-MCS U-function loop on the boundary task: `python -m benchmarks "
                 "adaptive_boundary_peers` (results/adaptive_boundary_peers.md).\n")
    if "optimization" in results:
        text += "\n## 4. Bayesian optimization after the refactor\n\n"
        text += markdown_table(results["optimization"]["summary"])
    if "overhead" in results:
        text += "\n## 5. Overhead per round (no teacher cost)\n\n"
        text += markdown_table(results["overhead"])
    text += "\nWall seconds per part: " + ", ".join(
        f"{k} {v:.0f}" for k, v in results["seconds"].items()) + "\n"
    return text
