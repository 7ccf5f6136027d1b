"""Bayesian optimization: ours against BoTorch, scikit-optimize, differential evolution, random.

Branin (budget 40, 5 initial points, target regret < 1e-2, seeds 0-4) and Hartmann6 (budget 80,
10 initial points, target regret < 0.1, seeds 0-9). Every method starts from the same initial design per
seed (``surrogate.optimize._loop.initial_design``, the LHS ``minimize`` draws itself) and works
in the unit cube; the budget counts the initial points. Peers:

* BoTorch: ``SingleTaskGP`` (default priors, ``Standardize`` outcome) fitted with
  ``fit_gpytorch_mll``, ``LogExpectedImprovement``, ``optimize_acqf`` with 10 restarts and 256 raw
  samples, one point per iteration;
* scikit-optimize: ``gp_minimize(acq_func="EI")`` given the initial design as ``x0``;
* SciPy ``differential_evolution`` with the initial design as its population (stopped at the
  budget, no polishing);
* random search: the initial design, then uniform points.

Reported per method: median final regret, seeds reaching the target, median evaluations to the
target (over all seeds, a seed that never reaches it counting as infinite, so "-" when half or
more miss; also the median over the seeds that reach it), and median wall seconds per iteration
after the initial design (model fit and acquisition; the teachers cost microseconds), with ours
divided by BoTorch's.

Environment overrides for reduced runs: ``OPTIMIZE_BENCH_SEEDS`` (e.g. ``"0,1,2"``) and
``OPTIMIZE_BENCH_PROBLEMS`` (e.g. ``"branin"``).
"""

from __future__ import annotations

import os
import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from benchmarks._common import markdown_table

DESCRIPTION = ("Bayesian optimization on Branin (40 evals) and Hartmann6 (80 evals): ours vs "
               "BoTorch LogEI, scikit-optimize, differential evolution, random search; same "
               "initial designs")

# name -> budget, initial points, regret target, seeds (Hartmann6 gets ten: about half of all
# runs of every model-based method end in its second basin, so five seeds cannot rank them)
PROBLEMS = {"branin": (40, 5, 1e-2, tuple(range(5))),
            "hartmann6": (80, 10, 0.1, tuple(range(10)))}
QUICK = {"branin": (14, 5, 1e-1, (0, 1))}

UnitFunction = Callable[[np.ndarray], np.ndarray]


def _problem(name: str) -> tuple[Any, UnitFunction, float]:
    import simulators
    from simulators import functions

    sim = simulators.load(name)
    minimum = {"branin": functions.BRANIN_MINIMUM,
               "hartmann6": functions.HARTMANN6_MINIMUM}[name]

    def f(unit: np.ndarray) -> np.ndarray:
        return sim(sim.space.from_unit(np.atleast_2d(unit)))["y"].to_numpy(dtype=float)

    return sim, f, float(minimum)


def _ours(sim: Any, f: UnitFunction, init: np.ndarray, budget: int, seed: int) -> np.ndarray:
    from surrogate.optimize import minimize

    result = minimize(sim, budget=budget, n_init=len(init), seed=seed)
    assert np.allclose(sim.space.to_unit(result.history.X.iloc[: len(init)]), init)
    return result.history.Y["y"].to_numpy(dtype=float)


def _botorch(sim: Any, f: UnitFunction, init: np.ndarray, budget: int, seed: int) -> np.ndarray:
    import torch
    from botorch.acquisition import LogExpectedImprovement
    from botorch.fit import fit_gpytorch_mll
    from botorch.models import SingleTaskGP
    from botorch.models.transforms import Standardize
    from botorch.optim import optimize_acqf
    from gpytorch.mlls import ExactMarginalLogLikelihood

    torch.manual_seed(seed)
    d = init.shape[1]
    X = torch.tensor(init, dtype=torch.float64)
    Y = -torch.tensor(f(init), dtype=torch.float64)[:, None]  # BoTorch maximizes
    bounds = torch.stack([torch.zeros(d), torch.ones(d)]).to(torch.float64)
    while len(X) < budget:
        model = SingleTaskGP(X, Y, outcome_transform=Standardize(m=1))
        fit_gpytorch_mll(ExactMarginalLogLikelihood(model.likelihood, model))
        acquisition = LogExpectedImprovement(model, best_f=Y.max())
        candidate, _ = optimize_acqf(acquisition, bounds=bounds, q=1, num_restarts=10,
                                     raw_samples=256)
        X = torch.cat([X, candidate])
        Y = torch.cat([Y, -torch.tensor(f(candidate.numpy()), dtype=torch.float64)[:, None]])
    return -Y[:, 0].numpy()


def _skopt(sim: Any, f: UnitFunction, init: np.ndarray, budget: int, seed: int) -> np.ndarray:
    from skopt import gp_minimize

    result = gp_minimize(lambda x: float(f(np.asarray([x]))[0]), [(0.0, 1.0)] * init.shape[1],
                         n_calls=budget, n_initial_points=0, x0=init.tolist(), acq_func="EI",
                         random_state=seed)
    return np.asarray(result.func_vals, dtype=float)


class _Spent(Exception):
    pass


def _differential_evolution(sim: Any, f: UnitFunction, init: np.ndarray, budget: int,
                            seed: int) -> np.ndarray:
    from scipy.optimize import differential_evolution

    values: list[float] = []

    def counted(x: np.ndarray) -> float:
        if len(values) >= budget:
            raise _Spent
        values.append(float(f(x[None, :])[0]))
        return values[-1]

    try:
        differential_evolution(counted, [(0.0, 1.0)] * init.shape[1], init=init, seed=seed,
                               polish=False, maxiter=100_000, tol=0.0)
    except _Spent:
        pass
    return np.asarray(values)


def _random(sim: Any, f: UnitFunction, init: np.ndarray, budget: int, seed: int) -> np.ndarray:
    rest = np.random.default_rng(seed).random((budget - len(init), init.shape[1]))
    return np.concatenate([f(init), f(rest)])


METHODS = {
    "ours (surrogate.minimize)": _ours,
    "BoTorch SingleTaskGP + LogEI": _botorch,
    "scikit-optimize gp_minimize (EI)": _skopt,
    "SciPy differential evolution": _differential_evolution,
    "random search": _random,
}


def _evaluations_to(regret: np.ndarray, target: float) -> float:
    hits = np.flatnonzero(regret < target)
    return float(hits[0] + 1) if len(hits) else float("inf")


def _run_problem(name: str, budget: int, n_init: int, target: float,
                 seeds: tuple[int, ...]) -> list[dict[str, Any]]:
    from surrogate.optimize._loop import initial_design

    sim, f, minimum = _problem(name)
    runs = []
    for seed in seeds:
        init = sim.space.to_unit(initial_design(sim.space, n_init, seed))
        for method, run in METHODS.items():
            start = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                values = run(sim, f, init, budget, seed)
            seconds = time.perf_counter() - start
            assert len(values) == budget, (method, len(values))
            regret = np.minimum.accumulate(values) - minimum
            runs.append({
                "problem": name, "method": method, "seed": seed,
                "final_regret": float(regret[-1]),
                "evaluations_to_target": _evaluations_to(regret, target),
                "seconds": seconds, "seconds_per_iteration": seconds / (budget - n_init),
                "regret_trace": regret.tolist(),
            })
            print(f"  {name} seed {seed} {method}: regret {regret[-1]:.3g}, "
                  f"{seconds:.1f} s", flush=True)
    return runs


def _summary(runs: list[dict[str, Any]], name: str, target: float) -> list[dict[str, Any]]:
    rows = []
    per_iter = {}
    for method in METHODS:
        mine = [r for r in runs if r["problem"] == name and r["method"] == method]
        to_target = np.array([r["evaluations_to_target"] for r in mine])
        median_to = float(np.median(to_target))
        reached = to_target[np.isfinite(to_target)]
        per_iter[method] = float(np.median([r["seconds_per_iteration"] for r in mine]))
        rows.append({
            "problem": name, "method": method,
            "median final regret": float(np.median([r["final_regret"] for r in mine])),
            "seeds reaching target": f"{int(np.isfinite(to_target).sum())}/{len(mine)}",
            "median evals to target": median_to if np.isfinite(median_to) else "-",
            "median evals, seeds reaching": float(np.median(reached)) if len(reached) else "-",
            "s / iteration": per_iter[method],
        })
    botorch = per_iter["BoTorch SingleTaskGP + LogEI"]
    for row in rows:
        row["target"] = target
        row["time vs BoTorch"] = row["s / iteration"] / botorch
    return rows


def run(quick: bool) -> tuple[dict[str, Any], str]:
    problems = QUICK if quick else PROBLEMS
    if os.environ.get("OPTIMIZE_BENCH_PROBLEMS"):
        wanted = os.environ["OPTIMIZE_BENCH_PROBLEMS"].split(",")
        problems = {k: v for k, v in PROBLEMS.items() if k in wanted}
    if os.environ.get("OPTIMIZE_BENCH_SEEDS"):
        seeds = tuple(int(s) for s in os.environ["OPTIMIZE_BENCH_SEEDS"].split(","))
        problems = {k: (*v[:3], seeds) for k, v in problems.items()}
    runs: list[dict[str, Any]] = []
    rows: list[dict[str, Any]] = []
    for name, (budget, n_init, target, seeds) in problems.items():
        runs += _run_problem(name, budget, n_init, target, seeds)
        rows += _summary(runs, name, target)
    columns = ["problem", "method", "target", "median final regret", "seeds reaching target",
               "median evals to target", "median evals, seeds reaching", "s / iteration",
               "time vs BoTorch"]
    table = markdown_table(rows, columns)
    settings = {name: {"budget": b, "n_init": n, "target": t, "seeds": list(s)}
                for name, (b, n, t, s) in problems.items()}
    return {"settings": settings, "summary": rows, "runs": runs}, table
