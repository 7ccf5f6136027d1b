"""Acquisition maximization in the unit cube: Sobol candidates, then multi-start L-BFGS-B.

Part of the sequential-design stage: every round of Bayesian optimization and of an adaptive
design ends here, and :func:`surrogate.minimize_surrogate` uses the same optimizer.
The acquisition is a torch function of unit-cube points ``(n, d) -> (n,)``. Many scrambled Sobol'
candidates (plus perturbations of the best points seen so far, which is where refinement pays)
are scored without gradients; the best few start one joint L-BFGS-B run (the starts are
independent, so the sum of their values has a block-diagonal Hessian and one bound-constrained
quasi-Newton run serves them all) with exact torch gradients.

Integer and categorical parameters own equal cells of ``[0, 1]`` (see :mod:`surrogate.space`).
They are relaxed to continuous values while L-BFGS-B runs, then *snapped* to the centre of their
cell; each discrete coordinate of the final candidates is then *enumerated* (every level tried,
the others held fixed) and the continuous coordinates are polished again with the discrete ones
fixed, so discrete parameters are optimized, not rounded and forgotten.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from scipy.optimize import minimize as scipy_minimize
from scipy.stats import qmc

from surrogate.space import Categorical, Integer, Space

__all__ = ["AcquisitionOptimizer", "discrete_levels", "snap", "evaluate"]

Acquisition = Callable[[torch.Tensor], torch.Tensor]
Box = tuple[np.ndarray, np.ndarray]  # lower and upper corners (d,) of a sub-box of [0, 1]^d

_CHUNK = 4096
_MAX_ENUMERATED_LEVELS = 64  # beyond this many levels an integer tries its neighbouring cells


def discrete_levels(space: Space) -> dict[int, int]:
    """Column index -> number of levels, for the integer and categorical parameters."""
    return {i: p.n_levels for i, p in enumerate(space)
            if isinstance(p, (Integer, Categorical))}


def snap(unit: np.ndarray, levels: dict[int, int]) -> np.ndarray:
    """Move discrete coordinates to the centre of the cell they fall in (a copy)."""
    unit = np.clip(np.array(unit, dtype=float), 0.0, 1.0)
    for column, k in levels.items():
        cell = np.minimum(np.floor(unit[..., column] * k), k - 1)
        unit[..., column] = (cell + 0.5) / k
    return unit


def evaluate(acquisition: Acquisition, unit: np.ndarray) -> np.ndarray:
    """Acquisition values at unit points (n, d), without gradients; -inf where not finite."""
    with torch.no_grad():
        values = [acquisition(torch.as_tensor(unit[i:i + _CHUNK], dtype=torch.float64))
                  for i in range(0, len(unit), _CHUNK)]
    out = torch.cat(values).numpy() if values else np.empty(0)
    return np.where(np.isfinite(out), out, -np.inf)


@dataclass(frozen=True)
class AcquisitionOptimizer:
    """Maximizes an acquisition over a space's unit cube.

    Parameters
    ----------
    space : Space
    n_raw : int
        Sobol' candidates scored before local optimization.
    n_restarts : int
        L-BFGS-B starts (the best candidates).
    maxiter : int
        L-BFGS-B iteration limit.
    """

    space: Space
    n_raw: int = 512
    n_restarts: int = 10
    maxiter: int = 200

    def candidates(self, rng: np.random.Generator, anchors: np.ndarray | None,
                   box: Box | None = None) -> np.ndarray:
        """Scrambled Sobol' points plus Gaussian perturbations of ``anchors`` (unit cube, or
        the sub-box ``box = (lower, upper)`` of it)."""
        d = self.space.dim
        lower, upper = (np.zeros(d), np.ones(d)) if box is None else box
        power = max(int(np.ceil(np.log2(self.n_raw))), 1)  # Sobol' balance needs 2^m points
        sobol = qmc.Sobol(d, scramble=True, seed=rng).random_base2(power)
        if box is not None:
            sobol = lower + sobol * (upper - lower)
        if anchors is None or len(anchors) == 0:
            return sobol
        # local candidates around the incumbents: two scales, a fifth of the budget
        n_local = max(self.n_raw // 5, 1)
        picks = anchors[rng.integers(0, len(anchors), n_local)]
        scale = np.where(rng.random((n_local, 1)) < 0.5, 0.02, 0.1)
        local = np.clip(picks + scale * rng.standard_normal((n_local, d)), lower, upper)
        return np.vstack([sobol, local])

    def local_optima(
        self, acquisition: Acquisition, rng: np.random.Generator, *,
        anchors: np.ndarray | None = None, polish: bool = True, box: Box | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Polished points (``n_restarts``, d) and the raw candidates, best first.

        ``polish=False`` keeps the best candidates as they are (for acquisitions that are
        meant for a finite candidate population, or have no useful gradient). ``box``
        (lower, upper unit-cube corners) confines the search to a sub-box.
        """
        levels = discrete_levels(self.space)
        raw = snap(self.candidates(rng, anchors, box), levels)
        scores = evaluate(acquisition, raw)
        raw = raw[np.argsort(-scores, kind="stable")]
        if not polish:
            return raw[: self.n_restarts], raw
        starts = raw[: self.n_restarts]
        # only categorical parameters: nothing to relax (the loop's GP reads each cell as its
        # level, with no gradient across cells); the enumeration below tries the levels
        polished = starts if all(isinstance(p, Categorical) for p in self.space) else \
            snap(self._lbfgsb(acquisition, starts, fixed=None, box=box), levels)
        if levels:
            polished = self._discrete_search(acquisition, polished, levels)
        return polished, raw

    def maximize(
        self,
        acquisition: Acquisition,
        rng: np.random.Generator,
        *,
        anchors: np.ndarray | None = None,
        exclude: np.ndarray | None = None,
        polish: bool = True,
        box: Box | None = None,
        accept: Callable[[np.ndarray], np.ndarray] | None = None,
        apart: np.ndarray | None = None,
    ) -> tuple[np.ndarray, float]:
        """The best unit-cube point found and its acquisition value.

        ``exclude`` (unit points, e.g. the evaluated ones) are never returned: with discrete
        parameters the best snapped point can coincide with one already evaluated. ``box``
        (lower, upper unit-cube corners) confines the search to a sub-box. ``accept`` (points
        (k, d) -> bool (k,)) rules out the local optima and candidates it fails. ``apart``
        (unit points: a batch's points chosen so far) rules out points within APART of one of
        them in every coordinate (max-norm distance): a batch mate there would be a run spent
        twice.
        """
        polished, raw = self.local_optima(acquisition, rng, anchors=anchors, polish=polish,
                                          box=box)
        pool = np.vstack([polished, raw[: 4 * self.n_restarts]])
        values = evaluate(acquisition, pool)
        if exclude is not None and len(exclude):
            values[_matches(pool, exclude)] = -np.inf
        if apart is not None and len(apart):
            values[_matches(pool, apart, tol=APART)] = -np.inf
        if accept is not None:
            values[~np.asarray(accept(pool), dtype=bool)] = -np.inf
        best = int(np.argmax(values))
        if not np.isfinite(values[best]):
            # everything scored is excluded (a tiny discrete space) or hopeless: any new point
            fresh = raw[~_matches(raw, exclude) & ~_matches(raw, apart, tol=APART)]
            return (fresh[0] if len(fresh) else raw[0]), float("-inf")
        return pool[best], float(values[best])

    def _lbfgsb(self, acquisition: Acquisition, starts: np.ndarray,
                fixed: np.ndarray | None, box: Box | None = None) -> np.ndarray:
        """Joint L-BFGS-B over all starts; ``fixed`` (bool per column) pins those coordinates,
        ``box`` bounds the others (default the unit cube)."""
        n, d = starts.shape
        lower = np.zeros((n, d)) if box is None else np.tile(box[0], (n, 1))
        upper = np.ones((n, d)) if box is None else np.tile(box[1], (n, 1))
        if fixed is not None:
            lower[:, fixed] = starts[:, fixed]
            upper[:, fixed] = starts[:, fixed]

        def negative(flat: np.ndarray) -> tuple[float, np.ndarray]:
            x = torch.tensor(flat.reshape(n, d), dtype=torch.float64, requires_grad=True)
            values = acquisition(x)  # (n,)
            values = torch.where(torch.isfinite(values), values, torch.full_like(values, -1e300))
            total = values.sum()
            if not total.requires_grad:
                raise TypeError(
                    "the acquisition's _score returned values without a gradient with respect "
                    "to unit (computed outside torch, or detached); make it differentiable or "
                    "set polish = False on the Acquisition subclass")
            (grad,) = torch.autograd.grad(total, x)
            grad = torch.nan_to_num(grad, nan=0.0, posinf=0.0, neginf=0.0)
            return -float(total.detach()), -grad.numpy().ravel()

        result = scipy_minimize(
            negative, starts.ravel(), jac=True, method="L-BFGS-B",
            bounds=list(zip(lower.ravel(), upper.ravel(), strict=True)),
            options={"maxiter": self.maxiter},
        )
        found = np.clip(result.x.reshape(n, d), 0.0, 1.0)
        # keep a start where the joint run made it worse (it cannot, but float noise can)
        better = evaluate(acquisition, found) >= evaluate(acquisition, starts)
        return np.where(better[:, None], found, starts)

    def _discrete_search(self, acquisition: Acquisition, points: np.ndarray,
                         levels: dict[int, int]) -> np.ndarray:
        """Coordinate-wise enumeration of discrete levels, then continuous polishing."""
        points = points.copy()
        for _sweep in range(2):
            changed = False
            for column, k in levels.items():
                ordered = isinstance(self.space[column], Integer)
                for row in range(len(points)):
                    trial = _level_trials(points[row], column, k, ordered)
                    values = evaluate(acquisition, trial)
                    best = int(np.argmax(values))
                    if not np.allclose(trial[best], points[row]):
                        points[row] = trial[best]
                        changed = True
            if not changed:
                break
        continuous = np.array([i not in levels for i in range(self.space.dim)])
        if continuous.any():
            points = snap(self._lbfgsb(acquisition, points, fixed=~continuous), levels)
        return points


def _level_trials(point: np.ndarray, column: int, k: int, ordered: bool = True) -> np.ndarray:
    """Copies of ``point`` with ``column`` set to each level's cell centre (or, for an ordered
    parameter of many levels, the neighbours). A categorical's levels have no neighbours: the
    loop's GP reads each as another category."""
    current = min(int(point[column] * k), k - 1)
    if k <= _MAX_ENUMERATED_LEVELS or not ordered:
        cells = np.arange(k)
    else:
        cells = np.unique(np.clip(current + np.arange(-2, 3), 0, k - 1))
    trial = np.repeat(point[None, :], len(cells), axis=0)
    trial[:, column] = (cells + 0.5) / k
    return trial


APART = 1e-3  # unit-cube distance (max norm) below which two points of a batch are one


def _matches(points: np.ndarray, others: np.ndarray | None, tol: float = 1e-9) -> np.ndarray:
    """Which ``points`` coincide with any of ``others``."""
    if others is None or len(others) == 0:
        return np.zeros(len(points), dtype=bool)
    distance = np.abs(points[:, None, :] - others[None, :, :]).max(axis=2)
    return (distance <= tol).any(axis=1)
