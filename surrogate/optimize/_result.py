"""The result of an optimization: best feasible point, full history, surrogate of the objective."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from surrogate.data import TransferSet
from surrogate.sequential._constraint import Constraint

__all__ = ["OptimizationResult", "Constraint", "point_of"]


def point_of(design: Any, row: int) -> dict[str, Any]:
    """Row ``row`` of a design as a dict of Python scalars, each column keeping its type.

    (``design.iloc[row]`` would upcast an integer column to float in a mixed-type frame.)
    """
    point = {}
    for name in design.columns:
        value = design[name].iloc[row]
        point[name] = value.item() if isinstance(value, np.generic) else value
    return point


@dataclass(frozen=True)
class OptimizationResult:
    """What an optimization found.

    Attributes
    ----------
    x : dict
        Best feasible point (parameter name -> value); the best infeasible one if none was
        feasible (then ``feasible`` is False).
    y : float
        Its objective value (the teacher's, or the model's for :func:`minimize_surrogate`).
    feasible : bool
        Whether ``x`` ran successfully and satisfies every constraint.
    history : TransferSet
        Every evaluation in order, failed runs included.
    n_evaluations : int
        Teacher evaluations spent (``len(history)``; 0 for :func:`minimize_surrogate`).
    model : object or None
        The surrogate of the objective fitted to every successful run (a
        :class:`~surrogate.optimize.UnitCubeModel`: ``model.predict(X)`` takes designs in the
        space's own coordinates; ``model.save(path)`` and :func:`surrogate.load` keep it), or
        the model that was optimized.
    output : str
        The objective's output name in ``history``.
    sense : {"minimize", "maximize"}
    constraints : tuple of Constraint

    Examples
    --------
    >>> from surrogate.space import Real, Space
    >>> from surrogate.optimize import minimize
    >>> space = Space([Real("x", -2.0, 2.0)])
    >>> result = minimize(lambda p: (p["x"] - 0.5) ** 2, space=space, budget=8, seed=0)
    >>> result.n_evaluations, abs(result.x["x"] - 0.5) < 0.05
    (8, True)
    """

    x: dict[str, Any]
    y: float
    feasible: bool
    history: TransferSet
    n_evaluations: int
    model: Any
    output: str
    sense: Literal["minimize", "maximize"] = "minimize"
    constraints: tuple[Constraint, ...] = field(default=())

    def feasible_mask(self) -> np.ndarray:
        """Per evaluation: ran successfully and satisfied every constraint."""
        mask = self.history.ok.copy()
        Y = self.history.Y
        for constraint in self.constraints:
            mask &= constraint.satisfied(Y[constraint.output].to_numpy())
        return mask

    def best_so_far(self) -> np.ndarray:
        """Best feasible objective after each evaluation (NaN until the first feasible one)."""
        values = self.history.Y[self.output].to_numpy(dtype=float)
        sign = 1.0 if self.sense == "minimize" else -1.0
        signed = np.where(self.feasible_mask(), sign * values, np.inf)
        best = np.minimum.accumulate(signed) if len(signed) else signed
        return np.where(np.isfinite(best), sign * best, np.nan)

    def __repr__(self) -> str:
        state = "feasible" if self.feasible else "NOT feasible"
        return (f"OptimizationResult({self.sense} {self.output!r}: y={self.y:.6g} at {self.x} "
                f"({state}), {self.n_evaluations} evaluations)")
