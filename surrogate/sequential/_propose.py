"""One round's proposal: maximize the acquisition, point by point for a batch.

Part of the sequential-design stage. Batches (``q > 1``) use the *Kriging believer* heuristic
(Ginsbourger, Le Riche & Carraro 2010): after each chosen point, the student takes the point
with its own predicted mean as an observation, which leaves the mean in place but collapses
the variance there, so the next maximizer of the acquisition goes elsewhere. The teacher then
runs the ``q`` points in parallel. An acquisition's detours (boxed searches, e.g. Bayesian
optimization's escape from a stalled basin) may replace a point the whole-space search found.

References
----------
.. [1] D. Ginsbourger, R. Le Riche, L. Carraro, "Kriging is well-suited to parallelize
   optimization", in Computational Intelligence in Expensive Optimization Problems (2010).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import torch

from surrogate._random import child_seed
from surrogate.sequential._acquisition import Acquisition, Observations
from surrogate.sequential._optimize_acqf import AcquisitionOptimizer, discrete_levels, snap
from surrogate.sequential._student import Student, Trainer
from surrogate.space import Space

__all__ = ["propose", "random_design"]

_REDRAWS = 100  # rounds of fresh draws for points not yet run in a finite space
_ENUMERATE_UP_TO = 100_000  # points of a finite space listed when the draws miss those left


def random_design(space: Space, q: int, rng: np.random.Generator) -> pd.DataFrame:
    """``q`` uniform points (discrete parameters at their cell centres)."""
    return space.from_unit(_random_points(q, space.dim, discrete_levels(space), rng))


def _random_points(q: int, d: int, levels: dict[int, int], rng: np.random.Generator,
                   taken: np.ndarray | None = None) -> np.ndarray:
    """``q`` uniform points (unit coordinates). In a finite space (every parameter discrete)
    they avoid the points ``taken`` and one another while others remain: the budget of such a
    space is capped at its size, and a repeat is a point that never runs (a continuous
    parameter makes a repeat improbable)."""
    points = snap(rng.random((q, d)), levels)
    if taken is None or len(levels) < d:
        return points
    seen = {tuple(row) for row in np.round(taken, 9)}
    fresh: list[np.ndarray] = []
    for _ in range(_REDRAWS):
        for row in points:
            key = tuple(np.round(row, 9))
            if key not in seen:
                seen.add(key)
                fresh.append(row)
                if len(fresh) == q:
                    return np.array(fresh)
        points = snap(rng.random((q, d)), levels)
    if len(fresh) < q:  # the draws missed the few points left: list them and draw from those
        left = [row for row in _grid(levels, d) if tuple(np.round(row, 9)) not in seen]
        fresh.extend(left[i] for i in rng.permutation(len(left))[: q - len(fresh)])
    if len(fresh) == q:
        return np.array(fresh)
    return np.vstack([*fresh, points[:q - len(fresh)]])  # all taken, or too many to list


def _grid(levels: dict[int, int], d: int) -> np.ndarray:
    """Every point of a finite space (unit coordinates, cell centres); empty past
    _ENUMERATE_UP_TO points."""
    if np.prod([float(levels[i]) for i in range(d)]) > _ENUMERATE_UP_TO:
        return np.empty((0, d))
    axes = [(np.arange(levels[i]) + 0.5) / levels[i] for i in range(d)]
    return np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, d)


def propose(space: Space, acquisition: Acquisition, data: Observations, student: Student | None,
            q: int, rng: np.random.Generator, optimizer: AcquisitionOptimizer,
            trainer: Trainer) -> pd.DataFrame:
    """The next ``q`` points (a design), starting from ``student`` fitted on ``data``.

    Without a student (fewer than two successful runs, or a fit that failed) the points are
    uniform random draws.
    """
    levels = discrete_levels(space)
    if student is None:
        return space.from_unit(_random_points(q, space.dim, levels, rng, data.unit))
    anchors = acquisition.anchors(data)
    unit_ok, values_ok = data.unit[data.ok], data.values[data.ok]
    student, unit_ok, values_ok = trainer.impute_failures(student, data.unit, data.ok, unit_ok,
                                                          values_ok)
    unit_all, success = data.unit, data.ok.astype(float)
    chosen: list[np.ndarray] = []
    for j in range(q):
        if j > 0:
            try:
                student = trainer.believe(student, unit_ok, values_ok, unit_all, success,
                                          child_seed(rng))
            except (ValueError, RuntimeError) as exc:  # a GP that cannot be fitted must not end
                warnings.warn(f"the surrogate could not be fitted ({exc}); proposing random "
                              "points this round", RuntimeWarning, stacklevel=2)
                rest = _random_points(q - len(chosen), space.dim, levels, rng,
                                      np.vstack([data.unit, *chosen]))
                return space.from_unit(np.vstack([*chosen, rest]))
        context = acquisition.context(student, data)
        exclude = np.vstack([data.unit, *chosen]) if chosen else data.unit
        function = acquisition.function(student, context)
        apart = np.vstack(chosen) if chosen else None
        point, value = optimizer.maximize(function, rng, anchors=anchors, exclude=exclude,
                                          polish=acquisition.polish, apart=apart)
        detour = _detour(acquisition, student, data, context, value, rng, optimizer, exclude,
                         apart)
        if detour is not None:
            point = detour
        chosen.append(point[None, :])
        if j == q - 1:
            break
        # Kriging believer: pretend the point returned the student's mean there
        with torch.no_grad():
            posterior = student.posterior(torch.as_tensor(point[None, :]))
        unit_ok = np.vstack([unit_ok, point])
        values_ok = np.vstack([values_ok, posterior.mean.numpy()])
        unit_all = np.vstack([unit_all, point])
        believed = 1.0 if posterior.success_mean is None else \
            float(posterior.success_mean[0].clamp(0.0, 1.0))
        success = np.append(success, believed)
    return space.from_unit(np.vstack(chosen))


def _detour(acquisition: Acquisition, student: Student, data: Observations, context: object,
            value: float, rng: np.random.Generator, optimizer: AcquisitionOptimizer,
            exclude: np.ndarray, apart: np.ndarray | None = None) -> np.ndarray | None:
    """The first of the acquisition's detours whose best point reaches its threshold."""
    for detour in acquisition.detours(student, data, context, value):
        function = acquisition.function(student, detour.context)
        point, value = optimizer.maximize(function, rng, anchors=detour.anchor,
                                          exclude=exclude, polish=acquisition.polish,
                                          box=detour.box, accept=detour.accept, apart=apart)
        if value >= detour.threshold:
            return point
    return None
