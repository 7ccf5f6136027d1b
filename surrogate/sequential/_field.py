"""The ``"accuracy"`` goal on a field output: runs that make the student of whole trajectories
globally faithful.

Part of the sequential-design stage. Each round the trajectories of the successful runs are
reduced to their principal components (centred, components kept by explained variance, as
:class:`~surrogate.models.FieldGPRegressor` does), and the loop's student -- the same batched
GP as for scalar outputs -- models the component scores. Because the basis is orthonormal, the
squared error of a predicted trajectory is the sum of its components' squared errors (plus the
truncation error), so :class:`FieldVarianceReduction` is the integrated variance reduction of
the scalar goal with each component weighted by its own variance: the variance of the
trajectory a run would remove, in the field's units. The fidelity is the leave-one-out Q² over
the whole field: the components' leave-one-out errors (closed form, Dubrule 1983) plus the
truncation error of the training trajectories, over their total variance.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import torch

from surrogate._checks import check_share
from surrogate.data import TransferSet
from surrogate.sequential._accuracy import VarianceReduction, loo_residuals
from surrogate.sequential._acquisition import Observations
from surrogate.sequential._student import Student

__all__ = ["FieldVarianceReduction", "MAX_COMPONENTS"]

MAX_COMPONENTS = 30  # GP outputs per round at most


class FieldVarianceReduction(VarianceReduction):
    """Integrated variance reduction of a field's trajectories (``goal="accuracy"`` on a field).

    Parameters
    ----------
    field : str
        The field's name (``Simulator(..., fields={field: grid})``).
    explained_variance : float, default 0.999
        Keep the fewest principal components whose share of the trajectories' variance reaches
        this (at most MAX_COMPONENTS, and fewer than the successful runs).
    error_weight : bool, default True
        As for :class:`VarianceReduction`, with the errors in the field's units.
    """

    standardized_errors = False  # error weights in the field's units

    def __init__(self, field: str, explained_variance: float = 0.999,
                 error_weight: bool = True) -> None:
        super().__init__(error_weight)
        if not isinstance(field, str):
            raise TypeError(f"field must be the name of a field (a str), got {field!r}")
        self.field = field
        self.explained_variance = check_share("explained_variance", explained_variance)
        self._variance: tuple[float, float] | None = None  # (total, truncated) of the last basis

    def observe(self, history: TransferSet, outputs: list[str]) -> np.ndarray:
        """The field's trajectories (n_runs, n_times); NaN rows for failed runs."""
        return history.field(self.field).to_numpy(dtype=float)

    def targets(self, values: np.ndarray) -> np.ndarray:
        """Component scores (n_runs, k) of the trajectories; NaN rows stay NaN."""
        from surrogate.models._field_basis import components_explaining  # models load on first use

        ok = np.isfinite(values).all(axis=1)
        scores = np.full((len(values), 1), np.nan)
        if ok.sum() < 2:
            self._variance = None
            return scores
        Y = values[ok]
        centred = Y - Y.mean(axis=0)
        _, s, vt = np.linalg.svd(centred, full_matrices=False)
        energy = s**2
        total = float(energy.sum())
        if total <= 0.0:  # every trajectory alike: one constant score
            self._variance = (0.0, 0.0)
            scores[ok] = 0.0
            return scores
        k = components_explaining(energy, self.explained_variance)
        k = max(1, min(k, MAX_COMPONENTS, int(ok.sum()) - 1))
        self._variance = (total, float(energy[k:].sum()))
        scores = np.full((len(values), k), np.nan)
        scores[ok] = centred @ vt[:k].T
        return scores

    def context(self, student: Student, data: Observations) -> Any:
        reference = super().context(student, data)
        if reference is None:
            return None
        # the components' reductions in the field's units: each scaled by its variance
        y_var = torch.as_tensor(np.atleast_1d(student.outputs._y_std) ** 2,
                                dtype=reference.scale.dtype, device=reference.scale.device)
        return dataclasses.replace(reference, scale=reference.scale * y_var)

    def fidelity(self, student: Student, data: Observations) -> float:
        """Leave-one-out Q² over the whole field (NaN where it cannot be computed)."""
        residual = loo_residuals(student.outputs)
        if residual is None or self._variance is None:
            return float("nan")
        total, truncated = self._variance
        if total <= 0.0:  # every trajectory alike: nothing tells how good the student is, and
            return float("nan")  # a constant must not stop a design (as loo_q2 for scalars)
        return 1.0 - (float((residual**2).sum()) + truncated) / total

    def __repr__(self) -> str:
        return f"FieldVarianceReduction({self.field!r})"
