"""Sobol' indices per teacher evaluation: SALib on the true function against ours on a GP.

Ishigami (3-D, a = 7, b = 0.1; analytic indices) and borehole (8-D; no closed form: the reference
is SALib on the true function with N = 2^17 base samples, 1.3 million evaluations, averaged over
two seeds, whose disagreement is reported). Error = max |S1 or ST - reference| over all inputs.

* Peer: SALib ``sample.sobol`` + ``analyze.sobol`` called directly on the true function, base
  samples N = 64 ... 8192 (N (d + 2) teacher evaluations), 5 seeds.
* Ours: ``sobol_indices`` (n = 4096 base samples on the surrogate) on ``GPRegressor`` fitted to
  50, 100, 200, 300, 500 LHS teacher runs, 5 seeds (design and GP seeds), both with the default
  kernel (Matérn-5/2) and ``kernel="auto"`` (Matérn-5/2 or RBF, noise fitted or at the floor, by
  leave-one-out error). Also
  reported: how often the truth lies within 2 combined standard deviations
  (``sqrt(gp_std^2 + (conf / 1.96)^2)``) of our estimate, i.e. whether the surrogate's stated
  uncertainty covers its error.

"Teacher calls to < 0.03" is the smallest number of evaluations whose median error over the seeds
is below 0.03.
"""

from __future__ import annotations

import time
import warnings
from typing import Any

import numpy as np
import pandas as pd
from SALib.analyze import sobol as salib_analyze
from SALib.sample import sobol as salib_sample

from benchmarks._common import markdown_table

DESCRIPTION = ("Sobol' indices: max |error| vs teacher evaluations, SALib on the true function "
               "(N = 64..8192) against ours on a GP fitted to 50-500 LHS runs (Ishigami, borehole)")

TARGET = 0.03
SEEDS = 5
PEER_N = (64, 128, 256, 512, 1024, 2048, 4096, 8192)
OUR_RUNS = (50, 100, 200, 300, 500)
OUR_N = 4096
KERNELS = ("matern52", "auto")
REFERENCE_N = 2**17


def _problem(sim: Any) -> dict[str, Any]:
    space = sim.space
    return {"num_vars": space.dim, "names": space.names,
            "bounds": [[p.low, p.high] for p in space]}


def _salib_true(sim: Any, n: int, seed: int) -> np.ndarray:
    """SALib as a user calls it, on the true function: S1 and ST stacked (2d,)."""
    problem = _problem(sim)
    X = salib_sample.sample(problem, n, calc_second_order=False, seed=seed)
    y = sim.fn(pd.DataFrame(X, columns=problem["names"]))
    result = salib_analyze.analyze(problem, np.asarray(y, dtype=float), calc_second_order=False,
                                   seed=seed + 1)
    return np.r_[result["S1"], result["ST"]]


def _reference(name: str, sim: Any, quick: bool) -> tuple[np.ndarray, float, str]:
    from simulators import functions

    if name == "ishigami":
        return np.r_[functions.ISHIGAMI_S1, functions.ISHIGAMI_ST], 0.0, "analytic"
    n = REFERENCE_N // (8 if quick else 1)
    runs = [_salib_true(sim, n, seed) for seed in (101, 202)]
    return np.mean(runs, axis=0), float(np.abs(runs[0] - runs[1]).max() / 2), \
        f"SALib on the true function, N = {n} ({n * (sim.space.dim + 2):,} evaluations), 2 seeds"


def _peer_rows(name: str, sim: Any, truth: np.ndarray, seeds: int,
               sizes: tuple[int, ...]) -> list[dict[str, Any]]:
    rows = []
    for n in sizes:
        errors, seconds = [], []
        for seed in range(seeds):
            start = time.perf_counter()
            estimate = _salib_true(sim, n, seed)
            seconds.append(time.perf_counter() - start)
            errors.append(float(np.abs(estimate - truth).max()))
        rows.append({"problem": name, "method": f"SALib true function, N = {n}",
                     "teacher_calls": n * (sim.space.dim + 2),
                     "median_max_error": float(np.median(errors)),
                     "worst_max_error": float(np.max(errors)), "coverage_2sd": None,
                     "median_gp_std": None, "seconds": float(np.median(seconds)),
                     "errors": errors})
    return rows


def _our_rows(name: str, sim: Any, truth: np.ndarray, seeds: int, runs: tuple[int, ...],
              kernel: str, n_sobol: int) -> list[dict[str, Any]]:
    import surrogate as sg
    from surrogate.models import GPRegressor
    from surrogate.sensitivity import sobol_indices

    rows = []
    for n_runs in runs:
        errors, covered, spreads, seconds = [], [], [], []
        for seed in range(seeds):
            start = time.perf_counter()
            X = sg.sample(sim.space, n_runs, method="lhs", seed=seed)
            gp = GPRegressor(kernel=kernel, seed=seed).fit(X, sim(X)["y"].to_numpy())
            result = sobol_indices(gp, sim.space, n=n_sobol, seed=seed)
            seconds.append(time.perf_counter() - start)
            estimate = np.r_[result["S1"], result["ST"]]
            gp_std = np.r_[result["S1_gp_std"], result["ST_gp_std"]]
            conf = np.r_[result["S1_conf"], result["ST_conf"]] / 1.96
            error = np.abs(estimate - truth)
            errors.append(float(error.max()))
            covered.append(float(np.mean(error <= 2 * np.sqrt(gp_std**2 + conf**2))))
            spreads.append(float(np.median(gp_std)))
        rows.append({"problem": name, "method": f"ours, GP ({kernel}) on {n_runs} LHS runs",
                     "teacher_calls": n_runs, "median_max_error": float(np.median(errors)),
                     "worst_max_error": float(np.max(errors)),
                     "coverage_2sd": float(np.mean(covered)),
                     "median_gp_std": float(np.median(spreads)),
                     "seconds": float(np.median(seconds)), "errors": errors})
    return rows


def _calls_to_target(rows: list[dict[str, Any]], prefix: str) -> int | None:
    hits = [r["teacher_calls"] for r in rows
            if r["method"].startswith(prefix) and r["median_max_error"] < TARGET]
    return min(hits) if hits else None


def run(quick: bool) -> tuple[dict[str, Any], str]:
    import simulators

    seeds = 1 if quick else SEEDS
    peer_n = (256, 1024) if quick else PEER_N
    our_runs = (50, 100) if quick else OUR_RUNS
    n_sobol = 1024 if quick else OUR_N
    rows: list[dict[str, Any]] = []
    summary, references = [], {}
    for name in ("ishigami", "borehole"):
        sim = simulators.load(name)
        truth, truth_error, source = _reference(name, sim, quick)
        references[name] = {"S1_ST": truth.tolist(), "half_spread": truth_error, "source": source}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            found = _peer_rows(name, sim, truth, seeds, peer_n)
            for kernel in KERNELS:
                found += _our_rows(name, sim, truth, seeds, our_runs, kernel, n_sobol)
        rows += found
        peer_calls = _calls_to_target(found, "SALib")
        for kernel in KERNELS:
            ours = _calls_to_target(found, f"ours, GP ({kernel})")
            summary.append({
                "problem": name, "surrogate": f"GP ({kernel})",
                "SALib_true_calls": peer_calls, "our_calls": ours,
                "ratio": (peer_calls / ours) if peer_calls and ours else None,
            })
    columns = ["problem", "method", "teacher_calls", "median_max_error", "worst_max_error",
               "coverage_2sd", "median_gp_std", "seconds"]
    table = (f"Teacher calls for median max |error| < {TARGET} ({seeds} seed(s)):\n\n"
             + markdown_table(summary)
             + "\nAll runs (`coverage_2sd`: share of indices whose error is within 2 combined "
               "standard deviations of ours; `seconds`: per run, fit + indices):\n\n"
             + markdown_table(rows, columns)
             + "\nReferences: " + "; ".join(f"{k}: {v['source']} (half-spread "
                                            f"{v['half_spread']:.4f})"
                                            for k, v in references.items()) + "\n")
    payload = {"target": TARGET, "seeds": seeds, "our_sobol_n": n_sobol,
               "references": references, "summary": summary, "rows": rows}
    return payload, table
