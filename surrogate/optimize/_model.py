"""The surrogates inside the loop: one GP per modelled output, plus one for run success.

The GPs are fitted on unit-cube coordinates (``Space.to_unit``), the coordinates the acquisition
optimizer moves, and queried through ``GPRegressor._predict_torch`` so gradients flow. When some
runs failed, a further GP regresses the success indicator (1 ok, 0 failed) on every run and its
probability of exceeding 1/2 weights the acquisition like a constraint: the search is steered
away from where the teacher breaks, without ever inventing objective values there.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from surrogate.space import Space

__all__ = ["Surrogates", "UnitCubeModel", "fit_gp"]

SUCCESS_THRESHOLD = 0.5


def fit_gp(U: np.ndarray, Y: np.ndarray, seed: int) -> Any:
    """A :class:`~surrogate.models.GPRegressor` fitted on unit-cube inputs ``U``.

    ``Y`` (n,) or (n, m); a single column is passed as (n,) so that ``predict`` returns (n,).
    """
    from surrogate.models import GPRegressor

    Y = np.asarray(Y, dtype=float)
    if Y.ndim == 2 and Y.shape[1] == 1:
        Y = Y[:, 0]
    return GPRegressor(seed=seed).fit(U, Y)


@dataclass(frozen=True)
class Surrogates:
    """Fitted GPs for the signed objective and constraints (``outputs``) and for run success.

    ``outputs`` predicts an (n, m) array: column 0 is the objective times ``sign`` (smaller is
    better), columns 1.. the constrained outputs as they are.
    """

    outputs: Any
    success: Any | None = None

    def posterior(self, unit: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor,
                                                     torch.Tensor | None, torch.Tensor | None]:
        """Mean and variance (n, m) of the outputs, and (n,) of the success GP (or None)."""
        mean, var = self.outputs._predict_torch(unit)
        if self.success is None:
            return mean, var, None, None
        s_mean, s_var = self.success._predict_torch(unit)
        return mean, var, s_mean[:, 0], s_var[:, 0]


def fit_surrogates(U_ok: np.ndarray, Y_ok: np.ndarray, U_all: np.ndarray,
                   success: np.ndarray, seed: int) -> Surrogates:
    """Fit the output GPs on the successful runs and, if any run failed, the success GP.

    ``success`` holds 1 for a successful run and 0 for a failed one (believed batch points
    carry the success GP's own prediction).
    """
    outputs = fit_gp(U_ok, Y_ok, seed)
    if (success >= 1.0).all():
        return Surrogates(outputs)
    return Surrogates(outputs, fit_gp(U_all, success, seed + 1))


class UnitCubeModel:
    """A GP fitted on unit-cube coordinates, seen in the space's own coordinates.

    ``predict(X)`` takes a design (DataFrame with the space's columns, or an array in space
    order), maps it with ``space.to_unit`` and returns the GP's prediction of ``outputs_``
    (the objective first, then any constrained outputs) in their original sign.

    Parameters
    ----------
    estimator : GPRegressor
        Fitted on ``space.to_unit(X)``.
    space : Space
    outputs : list of str
    signs : sequence of float
        Multiplies each output's mean (``-1`` where the loop modelled a negated objective).

    Attributes
    ----------
    estimator_ : GPRegressor
    space_ : Space
    outputs_ : list of str
    """

    def __init__(self, estimator: Any, space: Space, outputs: list[str],
                 signs: Any) -> None:
        self.estimator_ = estimator
        self.space_ = space
        self.outputs_ = list(outputs)
        self.signs_ = np.asarray(signs, dtype=float)

    def predict(self, X: Any, return_std: bool = False) -> Any:
        """Predicted outputs (n,) for one output or (n, m), and their std with ``return_std``."""
        mean, std = self.estimator_.predict(self.space_.to_unit(X), return_std=True)
        mean = np.asarray(mean) * (self.signs_[0] if mean.ndim == 1 else self.signs_)
        return (mean, std) if return_std else mean

    def predict_unit_torch(self, unit: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean and variance (n, m) at unit-cube points, differentiable, in original sign."""
        mean, var = self.estimator_._predict_torch(unit)
        signs = torch.as_tensor(self.signs_, dtype=mean.dtype)
        return mean * signs, var

    def __repr__(self) -> str:
        return f"UnitCubeModel({type(self.estimator_).__name__}, outputs={self.outputs_})"
