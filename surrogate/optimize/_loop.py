"""Bayesian optimization with the teacher in the loop: ``minimize`` and ``maximize``.

Stage "uses" of the pipeline, a client of the sequential-design loop (:mod:`surrogate.sequential`):
an initial Latin-hypercube design, then rounds of *fit GPs on every finished run -> maximize the
expected improvement -> run the teacher on the proposed points*, until the budget of teacher
evaluations is spent; once the best value stalls, rounds improve the best run of another basin
of the GP instead (``escape``). Every round goes through ``Simulator.run``, so the executors run batches in
parallel, failing runs are recorded rather than raised, and a checkpoint directory makes a killed
optimization resume without repeating runs.

References
----------
.. [1] D. R. Jones, M. Schonlau, W. J. Welch, "Efficient global optimization of expensive
   black-box functions", J. Global Optim. 13 (1998) 455-492.
.. [2] S. Ament et al., "Unexpected improvements to expected improvement for Bayesian
   optimization", NeurIPS 2023.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import pandas as pd

from surrogate._random import SeedLike
from surrogate.data import TransferSet
from surrogate.execute._campaign import check_run_options
from surrogate.models import GPRegressor
from surrogate.optimize._problem import Problem, build_problem
from surrogate.optimize._result import OptimizationResult, point_of
from surrogate.sequential._acquisition import Improvement, Observations
from surrogate.sequential._loop import Plan, root_seed, run_rounds
from surrogate.sequential._loop import initial_design as sequential_initial_design
from surrogate.sequential._store import run_identity
from surrogate.sequential._student import Trainer, UnitCubeModel, categorical_cells, fit_gp
from surrogate.space import Space
from surrogate.teacher import SimulationError

__all__ = ["minimize", "maximize", "initial_design"]

Acquisition = Literal["logei", "ei", "ucb"]
SIGNATURE_FILE = "optimization.json"
SCHEMA = "surrogate.optimization/1"
LENGTHSCALE_PRIOR: Literal["gamma", "lognormal"] = "gamma"  # with escape (see _model)


def minimize(
    target: Any,
    *,
    output: str | None = None,
    budget: int,
    n_init: int | None = None,
    batch_size: int = 1,
    acquisition: Acquisition = "logei",
    constraints: dict[str, tuple[str, float]] | None = None,
    executor: Any = "serial",
    checkpoint: Any = None,
    seed: SeedLike = None,
    space: Space | None = None,
    escape: bool = True,
    warp: bool = True,
    timeout: float | None = None,
    retries: int = 0,
) -> OptimizationResult:
    """Find the inputs that minimize a teacher's output with as few runs as possible.

    Bayesian optimization: a Latin-hypercube initial design, then rounds that fit a Gaussian
    process (:class:`~surrogate.GPRegressor`, on unit-cube coordinates) to every successful run,
    maximize an acquisition function over the space (Sobol' candidates, then multi-start
    L-BFGS-B with exact gradients; integer and categorical parameters enumerated) and run the
    teacher on the ``batch_size`` proposed points.

    Parameters
    ----------
    target : Simulator or callable
        A :class:`~surrogate.Simulator` (``output`` names the objective when it has several
        outputs), or a function taking one point as a dict of parameter values and returning a
        float (then ``space`` is required).
    output : str, optional
        The objective's output name.
    budget : int
        Teacher evaluations in all, the initial design and failed runs included.
    n_init : int, optional
        Size of the initial design; default ``2 * dim + 1``. Must not exceed ``budget``.
    batch_size : int, default 1
        Points proposed per round (Kriging believer), run in parallel by the executor.
    acquisition : {"logei", "ei", "ucb"}, default "logei"
        Log expected improvement (numerically stable far from the incumbent), expected
        improvement, or an upper confidence bound with two standard deviations of optimism.
    constraints : dict, optional
        ``{"output": (op, value)}`` with ``op`` one of ``"<=", ">=", "<", ">"``, on outputs of
        the same simulator. Each constrained output gets its own GP; the acquisition is weighted
        by the probability that every constraint holds, and the result is the best point that
        satisfies them all.
    executor : {"serial", "processes", "dask"} or Executor, default "serial"
        Where teacher runs execute (see :meth:`~surrogate.Simulator.run`).
    checkpoint : path, optional
        A directory; every finished run is saved as it completes, and calling again with the
        same arguments resumes: finished rounds are reloaded and finished runs are not
        repeated. The budget may be raised to continue an optimization (from a budget that
        ended a round, it continues as one run with the larger budget would have; a last
        round cut short by the budget is kept as it is). Another teacher
        (its code, not only its name) or another int seed is refused, naming what differs;
        with a seed that is not an int (None, a Generator) the design goes on as it was first
        seeded.
    seed : int, numpy.random.Generator or None
        Same seed, same history.
    space : Space, optional
        Required for a plain function target.
    escape : bool, default True
        Leave a basin the search has stalled in: once the best value has not improved for
        ten runs after the initial design by more than 0.5 % of the objective's spread (or
        the acquisition expects no more improvement than that), a round improves the best run
        of another basin of the GP's mean instead, in a box around it, so that a second-best local
        minimum does not hold the rest of the budget (see :meth:`surrogate.sequential.Improvement.detours`). With
        ``batch_size=1`` the GPs also fit their length scales under a ``Gamma(3, 6)`` prior
        (``GPRegressor(lengthscale_prior="gamma")``) rather than by maximum likelihood, in
        every round from the first, not only after a stall.
        ``False`` is the plain loop (as before the option existed). The escape itself is not
        used with ``acquisition="ucb"``.
    warp : bool, default True
        Model the objective through a monotone (Yeo-Johnson) warp of its values, refitted
        every round by maximum likelihood, that compresses a long tail of good values (a few
        deep, narrow minima, which mislead the GP's stationary kernel); a tail of bad values is
        left as it is (see :func:`surrogate.sequential.warp_objective`). The result's
        ``model`` predicts the objective itself. ``False``: the GP models the values as they
        are.
    timeout : float, optional
        Seconds a teacher run may take; one over it is stopped and recorded as ``"timeout"``
        (a failed run), as in :meth:`~surrogate.Simulator.run`.
    retries : int, default 0
        Reruns of a run that raised, before it is recorded as failed.

    Returns
    -------
    OptimizationResult
        ``x``, ``y``, ``feasible``, ``history`` (every run, failures included),
        ``n_evaluations``, ``model`` (the objective's GP fitted on every successful run).

    Notes
    -----
    A failing teacher run (an exception, a NaN or a timeout) counts against the budget and
    stays in the history. The
    GPs see only successful runs; a separate GP of the success indicator weights the
    acquisition by the probability that a run succeeds, so the search avoids regions that break
    the teacher.

    Examples
    --------
    >>> from surrogate.space import Real, Space
    >>> space = Space([Real("x", -2.0, 2.0), Real("y", -2.0, 2.0)])
    >>> result = minimize(lambda p: (p["x"] - 1) ** 2 + (p["y"] + 0.5) ** 2, space=space,
    ...                   budget=20, seed=0)
    >>> round(result.x["x"], 2), round(result.x["y"], 2), result.n_evaluations
    (1.0, -0.5, 20)
    """
    problem = build_problem(target, sense="minimize", output=output, budget=budget,
                            n_init=n_init, batch_size=batch_size, acquisition=acquisition,
                            constraints=constraints, space=space, escape=escape,
                            warp=warp)
    check_run_options(timeout, retries)
    return run_optimization(problem, executor=executor, checkpoint=checkpoint, seed=seed,
                            timeout=timeout, retries=retries)


def maximize(
    target: Any,
    *,
    output: str | None = None,
    budget: int,
    n_init: int | None = None,
    batch_size: int = 1,
    acquisition: Acquisition = "logei",
    constraints: dict[str, tuple[str, float]] | None = None,
    executor: Any = "serial",
    checkpoint: Any = None,
    seed: SeedLike = None,
    space: Space | None = None,
    escape: bool = True,
    warp: bool = True,
    timeout: float | None = None,
    retries: int = 0,
) -> OptimizationResult:
    """Find the inputs that maximize a teacher's output; see :func:`minimize` for the options.

    Examples
    --------
    >>> from surrogate.space import Real, Space
    >>> space = Space([Real("x", 0.0, 3.0)])
    >>> result = maximize(lambda p: -(p["x"] - 2.0) ** 2, space=space, budget=10, seed=0)
    >>> round(result.x["x"], 2), result.y <= 0.0
    (2.0, True)
    """
    problem = build_problem(target, sense="maximize", output=output, budget=budget,
                            n_init=n_init, batch_size=batch_size, acquisition=acquisition,
                            constraints=constraints, space=space, escape=escape,
                            warp=warp)
    check_run_options(timeout, retries)
    return run_optimization(problem, executor=executor, checkpoint=checkpoint, seed=seed,
                            timeout=timeout, retries=retries)


def initial_design(space: Space, n_init: int, seed: SeedLike) -> pd.DataFrame:
    """The initial design ``minimize(..., seed=seed)`` starts from (for side-by-side studies)."""
    return sequential_initial_design(space, n_init, root_seed(seed))


def run_optimization(problem: Problem, *, executor: Any, checkpoint: Any, seed: SeedLike,
                     timeout: float | None = None, retries: int = 0) -> OptimizationResult:
    """The loop behind :func:`minimize` and :func:`maximize` (``problem`` already validated):
    the shared sequential-design loop with the improvement acquisition."""
    plan = Plan(problem.simulator, tuple(problem.modelled_outputs), problem.budget,
                problem.n_init, problem.batch_size,
                {"schema": SCHEMA, **problem.signature(), **run_identity(problem.simulator, seed)},
                SIGNATURE_FILE, "optimization", timeout=timeout, retries=retries)
    acquisition = Improvement(problem.acquisition, problem.constraints, problem.sign,
                              escape=problem.escape, n_init=problem.n_init, warp=problem.warp)
    trainer = Trainer(_model(problem), cells=categorical_cells(problem.space))
    rounds = run_rounds(plan, acquisition, trainer, executor=executor,
                        checkpoint=checkpoint, seed=seed)
    return _result(problem, rounds.history, rounds.final_seed)


def _model(problem: Problem) -> GPRegressor | None:
    """The template of the objective's and the constraints' GPs (None: the default one).

    With ``escape``, the length scales are maximum a posteriori under LENGTHSCALE_PRIOR rather
    than maximum likelihood: with a few dozen runs, the likelihood often runs the length scale
    of a direction it has seen little change along to its bound, and the GP then believes the
    whole direction mapped, so expected improvement stops exploring it. The plain loop
    (``escape=False``) keeps the maximum-likelihood GP it always had, and so do batches: with
    the prior, Kriging-believer batches on Branin put three of four points within 1e-3 of
    one another at the optimum (the evidence for the prior is for one point per round).
    """
    if problem.escape and problem.batch_size == 1:
        return GPRegressor(lengthscale_prior=LENGTHSCALE_PRIOR)
    return None


def _result(problem: Problem, history: TransferSet, seed: int) -> OptimizationResult:
    # the outputs as they are (not warped, not rescaled): the result's GP predicts the
    # objective itself
    acquisition = Improvement(problem.acquisition, problem.constraints, problem.sign,
                              rescale=False)
    data = Observations.from_history(problem.space, history, problem.modelled_outputs,
                                     acquisition)
    if not data.ok.any():  # no optimum to report: a point no run measured would look like one
        first = next((e for e in history.error if e), "no error recorded")
        error = SimulationError(
            f"all {len(history)} evaluations of the teacher failed; first: {first}. Fix the "
            "teacher (a checkpoint keeps the failed runs; they are not retried on resume); "
            "the runs are this error's .history")
        error.history = history  # type: ignore[attr-defined]
        raise error
    model = None
    if data.ok.sum() >= 2:
        estimator = fit_gp(data.unit[data.ok], data.values[data.ok], seed, _model(problem),
                           categorical_cells(problem.space))
        signs = [problem.sign] + [1.0] * len(problem.constraints)
        model = UnitCubeModel(estimator, problem.space, problem.modelled_outputs, signs)
    feasible = acquisition.feasible(data)
    index = _best_index(problem, data, feasible)
    y = float(history.Y[problem.output].iloc[index])
    point = point_of(history.X, index)
    return OptimizationResult(
        x=point, y=y, feasible=bool(feasible[index]), history=history,
        n_evaluations=len(history), model=model, output=problem.output,
        sense=problem.sense, constraints=problem.constraints)


def _best_index(problem: Problem, data: Observations, feasible: np.ndarray) -> int:
    """Best feasible run; else the successful run closest to feasible; else the first run."""
    if feasible.any():
        index = np.flatnonzero(feasible)
        return int(index[np.argmin(data.values[index, 0])])
    if data.ok.any():
        index = np.flatnonzero(data.ok)
        violation = np.zeros(len(index))
        for j, constraint in enumerate(problem.constraints, start=1):
            values = data.values[index, j]
            gap = values - constraint.bound if constraint.op in ("<=", "<") \
                else constraint.bound - values
            spread = float(np.std(data.values[data.ok, j])) or 1.0
            violation += np.maximum(gap, 0.0) / spread
        return int(index[np.argmin(violation)])
    return 0
