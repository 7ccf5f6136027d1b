"""One round of Bayesian optimization: fit the surrogates, maximize the acquisition, propose.

Batches (``q > 1``) use the *Kriging believer* heuristic (Ginsbourger, Le Riche & Carraro 2010):
after each chosen point, the GPs are refitted with the point added at their own predicted mean,
which leaves the mean in place but collapses the variance there, so the next maximizer of the
acquisition goes elsewhere. The teacher then runs the ``q`` points in parallel.

References
----------
.. [1] D. Ginsbourger, R. Le Riche, L. Carraro, "Kriging is well-suited to parallelize
   optimization", in Computational Intelligence in Expensive Optimization Problems (2010).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from surrogate._random import child_seed
from surrogate.data import TransferSet
from surrogate.optimize._acquisition import (
    expected_improvement,
    log_expected_improvement,
    log_probability_of_feasibility,
    upper_confidence_bound,
)
from surrogate.optimize._model import SUCCESS_THRESHOLD, Surrogates, fit_surrogates
from surrogate.optimize._optimize_acqf import AcquisitionOptimizer, discrete_levels, snap
from surrogate.optimize._problem import Problem

__all__ = ["propose", "Observations"]

UCB_BETA = 4.0  # sqrt(beta) = 2 standard deviations of optimism
N_ANCHORS = 5


@dataclass(frozen=True)
class Observations:
    """The history in the loop's terms: unit-cube inputs, signed outputs, feasibility."""

    unit: np.ndarray  # (n, d) every run
    ok: np.ndarray  # (n,) run succeeded
    values: np.ndarray  # (n, m) objective * sign, then constrained outputs; NaN where failed
    feasible: np.ndarray  # (n,) ok and every constraint satisfied

    @classmethod
    def from_history(cls, problem: Problem, history: TransferSet) -> Observations:
        Y = history.Y[problem.modelled_outputs].to_numpy(dtype=float, copy=True)
        Y[:, 0] *= problem.sign
        feasible = history.ok.copy()
        for j, constraint in enumerate(problem.constraints, start=1):
            feasible &= constraint.satisfied(Y[:, j])
        return cls(problem.space.to_unit(history.X), history.ok, Y, feasible)

    def best(self) -> float | None:
        """Smallest signed objective among the feasible runs (None if there is none)."""
        if not self.feasible.any():
            return None
        return float(self.values[self.feasible, 0].min())

    def anchors(self) -> np.ndarray:
        """Unit-cube points of the best feasible runs, where local candidates are drawn."""
        index = np.flatnonzero(self.feasible)
        order = index[np.argsort(self.values[index, 0], kind="stable")]
        return self.unit[order[:N_ANCHORS]]


def make_acquisition(problem: Problem, surrogates: Surrogates, best: float | None,
                     scale: float) -> Callable[[torch.Tensor], torch.Tensor]:
    """The acquisition (larger is better) as a torch function of unit-cube points (n, d).

    Constraints and run success enter as log probabilities of feasibility, added to log EI
    (multiplied into EI; added to UCB in units of the objective's spread ``scale``). Before any
    feasible run exists, the probability of feasibility alone is maximized.
    """

    def acquisition(unit: torch.Tensor) -> torch.Tensor:
        mean, var, s_mean, s_var = surrogates.posterior(unit)
        log_pof = torch.zeros_like(mean[:, 0])
        for j, constraint in enumerate(problem.constraints, start=1):
            log_pof = log_pof + log_probability_of_feasibility(
                mean[:, j], var[:, j], constraint.op, constraint.bound)
        if s_mean is not None and s_var is not None:
            log_pof = log_pof + log_probability_of_feasibility(s_mean, s_var, ">=",
                                                               SUCCESS_THRESHOLD)
        if best is None:
            return log_pof
        if problem.acquisition == "logei":
            return log_expected_improvement(mean[:, 0], var[:, 0], best) + log_pof
        if problem.acquisition == "ei":
            return expected_improvement(mean[:, 0], var[:, 0], best) * log_pof.exp()
        return upper_confidence_bound(mean[:, 0], var[:, 0], UCB_BETA) / scale + log_pof

    return acquisition


def _random_points(q: int, d: int, levels: dict[int, int], rng: np.random.Generator
                   ) -> np.ndarray:
    return snap(rng.random((q, d)), levels)


def propose(problem: Problem, history: TransferSet, q: int, rng: np.random.Generator,
            optimizer: AcquisitionOptimizer) -> tuple[pd.DataFrame, Surrogates | None]:
    """The next ``q`` points (a design) and the surrogates fitted for the first of them.

    With fewer than two successful runs there is nothing to model: the points are uniform
    random draws.
    """
    space = problem.space
    data = Observations.from_history(problem, history)
    levels = discrete_levels(space)
    if data.ok.sum() < 2:
        return space.from_unit(_random_points(q, space.dim, levels, rng)), None
    best = data.best()
    values_ok = data.values[data.ok]
    scale = float(np.std(values_ok[:, 0])) or 1.0
    unit_ok, unit_all = data.unit[data.ok], data.unit
    success = data.ok.astype(float)
    chosen: list[np.ndarray] = []
    first: Surrogates | None = None
    for j in range(q):
        try:
            surrogates = fit_surrogates(unit_ok, values_ok, unit_all, success, child_seed(rng))
        except (ValueError, RuntimeError) as exc:  # a GP that cannot be fitted must not end
            warnings.warn(f"the surrogate could not be fitted ({exc}); proposing random "
                          "points this round", RuntimeWarning, stacklevel=2)
            rest = _random_points(q - len(chosen), space.dim, levels, rng)
            return space.from_unit(np.vstack([*chosen, rest])), first
        first = first or surrogates
        acquisition = make_acquisition(problem, surrogates, best, scale)
        exclude = np.vstack([data.unit, *chosen]) if chosen else data.unit
        point, _ = optimizer.maximize(acquisition, rng, anchors=data.anchors(), exclude=exclude)
        chosen.append(point[None, :])
        if j == q - 1:
            break
        # Kriging believer: pretend the point returned the GPs' mean there
        with torch.no_grad():
            mean, _, s_mean, _ = surrogates.posterior(torch.as_tensor(point[None, :]))
        unit_ok = np.vstack([unit_ok, point])
        values_ok = np.vstack([values_ok, mean.numpy()])
        unit_all = np.vstack([unit_all, point])
        believed = 1.0 if s_mean is None else float(np.clip(s_mean[0], 0.0, 1.0))
        success = np.append(success, believed)
    return space.from_unit(np.vstack(chosen)), first
