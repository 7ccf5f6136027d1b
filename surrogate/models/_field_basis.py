"""The reduced basis of a field surrogate: how many principal components to keep, the
out-of-sample truncation error of a kept basis, the grid a field's columns give, and the Q² of a
whole field. Used by :class:`~surrogate.models.FieldGPRegressor` (:mod:`._field`), the metrics and
the field acquisition of the adaptive designs.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd

from surrogate._fields import check_grid
from surrogate._scale import binary_exponent
from surrogate._stack import user_stacklevel

__all__ = ["field_q2", "components_explaining", "warn_if_most_kept", "grid_of", "residual_basis",
           "column_norms", "column_labels", "check_field_columns", "BASIS_FOLDS"]

BASIS_FOLDS = 5  # folds of the out-of-sample estimate of the truncation error


def field_q2(y_true: Any, y_pred: Any) -> float:
    """Q² over a whole field: ``1 - SSE / SST`` summed over every run and grid point.

    ``SST`` is the spread of the true trajectories around their mean trajectory (per grid point),
    so Q² is the share of the field's variance the predictions explain; grid points where every
    trajectory agrees add nothing to either sum (no per-point ratio is undefined).

    Examples
    --------
    >>> field_q2([[0.0, 1.0], [2.0, 3.0]], [[0.0, 1.0], [2.0, 2.0]])
    0.75
    """
    t = np.asarray(y_true, dtype=float)
    p = np.asarray(y_pred, dtype=float)
    t, p = t.reshape(len(t), -1), p.reshape(len(p), -1)
    if t.shape != p.shape:
        raise ValueError(f"y_true {t.shape} and y_pred {p.shape} must have the same shape")
    exponent = binary_exponent(t)  # exact: the squares of a field of 1e-160 underflowed
    t, p = np.ldexp(t, -exponent), np.ldexp(p, -exponent)  # (Q² 1.0 for any fit)
    sst = float(((t - t.mean(axis=0)) ** 2).sum())
    if sst == 0.0:
        return float("nan")
    return 1.0 - float(((t - p) ** 2).sum()) / sst


def components_explaining(energy: np.ndarray, share: float) -> int:
    """The fewest leading principal components whose part of the summed ``energy`` (squared
    singular values, decreasing, sum > 0) reaches ``share``.

    Examples
    --------
    >>> components_explaining(np.array([8.0, 1.5, 0.5]), 0.9)
    2
    """
    cumulative = np.cumsum(energy) / energy.sum()
    return min(int(np.searchsorted(cumulative, share - 1e-12)) + 1, len(energy))


MOST_KEPT = 0.5  # of min(n_runs, n_times): kept by explained_variance, a sign of a noisy field


def warn_if_most_kept(k: int, limit: int) -> None:
    """Warn when ``explained_variance`` kept ``k`` of at most ``limit`` components, 10 or more
    and over MOST_KEPT of them: white noise on the grid spreads over every component, which
    are then modelled as signal (40 noisy runs of a rank-2 field kept 37 components and
    reproduced their noise: error 1.2x, and 6.7x the fit time, of ``n_components=3``)."""
    if k >= 10 and k > MOST_KEPT * limit:
        warnings.warn(
            f"FieldGPRegressor kept {k} components of at most {limit}: if the field is noisy, "
            "its noise spreads over every component, which are then modelled as signal, and "
            "n_components (where the singular values level off) is the setting to use; a field "
            "that moves in time needs many components too (see align='peak')", UserWarning,
            stacklevel=user_stacklevel())


def grid_of(Y: Any, n_times: int) -> tuple[np.ndarray, str | None]:
    """The grid (numeric DataFrame columns, which must increase; else 0 .. T-1) and the name."""
    if isinstance(Y, pd.DataFrame):
        name = Y.columns.name if isinstance(Y.columns.name, str) else None
        try:
            grid = np.asarray(Y.columns, dtype=np.float64)
        except (TypeError, ValueError):
            return np.arange(n_times, dtype=np.float64), name
        try:
            return np.array(check_grid(name or "Y", grid)), name
        except ValueError as exc:
            raise ValueError(f"Y's columns are numbers, read as the field's grid: {exc}; sort the "
                             "columns by time, or name them with strings to use positions "
                             "0 .. T-1") from None
    return np.arange(n_times, dtype=np.float64), None


def column_norms(W: np.ndarray) -> np.ndarray:
    """``sqrt(sum(W**2, axis=0))`` without overflow or underflow of the squares (a field of
    1e160 or 1e-300): computed in units of ``W``'s largest magnitude, a power of two."""
    exponent = binary_exponent(W)
    return np.ldexp(np.sqrt((np.ldexp(W, -exponent) ** 2).sum(axis=0)), exponent)


def residual_basis(trajectories: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """A factor ``W`` (q, T) with ``W^T W`` the covariance of out-of-sample truncation errors.

    k-fold: the mean and the first ``k`` components are refitted without each fold, and the
    fold's trajectories are projected on them; the residuals of all folds, divided by sqrt(n),
    are factored by an SVD (``sum(W**2, axis=0)`` is the residual variance per grid point).
    """
    n = len(trajectories)
    folds = np.array_split(rng.permutation(n), min(BASIS_FOLDS, n))
    residuals = np.empty_like(trajectories)
    for held_out in folds:
        train = np.setdiff1d(np.arange(n), held_out)
        mean = trajectories[train].mean(axis=0)
        _, singular, directions = np.linalg.svd(trajectories[train] - mean,
                                                full_matrices=False)
        # (k', T), k' <= k: only directions the fold has. Past its rank the SVD returns
        # arbitrary ones, and the band then changed when the grid's columns were reordered
        tol = singular.max(initial=0.0) * max(trajectories.shape) * np.finfo(float).eps
        basis = directions[:k][singular[:k] > tol]
        centred = trajectories[held_out] - mean
        residuals[held_out] = centred - (centred @ basis.T) @ basis
    _, singular, directions = np.linalg.svd(residuals / np.sqrt(n), full_matrices=False)
    return singular[:, None] * directions


def column_labels(Y: Any) -> list[Any] | None:
    """The column labels of a DataFrame ``Y`` as plain JSON values (numbers or text), to check
    later trajectories against (:func:`check_field_columns`); None for an array."""
    if not isinstance(Y, pd.DataFrame):
        return None
    return [c if isinstance(c, int | float | str) and not isinstance(c, bool) else str(c)
            for c in pd.Index(Y.columns).tolist()]


def check_field_columns(Y: Any, labels: list[Any] | None, name: str = "Y") -> None:
    """Refuse trajectories ``Y`` whose DataFrame columns are not ``labels``, those of the field
    a model was fitted on (another grid, or the same in another order): read by position,
    they would be compared point by point with the wrong times. Numeric labels are compared
    as numbers (to 1e-9), others as text. Nothing to check for an array or a model fitted on
    one (``labels`` None), or for another number of columns (the caller's shape check names
    it)."""
    if not isinstance(Y, pd.DataFrame) or labels is None or len(Y.columns) != len(labels):
        return
    given = column_labels(Y)
    assert given is not None
    try:
        same = bool(np.allclose(np.asarray(given, dtype=np.float64),
                                np.asarray(labels, dtype=np.float64), rtol=1e-9, atol=0.0))
    except (TypeError, ValueError):
        same = [str(c) for c in given] == [str(c) for c in labels]
    if not same:
        raise ValueError(f"{name}'s columns are not those of the field the model was fitted on "
                         f"({_describe(labels)}); got {_describe(given)}: pass the field on "
                         "the fitted grid, in its order")


def _describe(labels: list[Any]) -> str:
    shown = ", ".join(f"{v:g}" if isinstance(v, int | float) else str(v) for v in labels[:3])
    return f"{len(labels)} points: {shown}{', ...' if len(labels) > 3 else ''}"
