"""Guards on the exact GP's coordinates: points far beyond the data, and runs that nearly repeat.

Used by :class:`~surrogate.models.GPRegressor` (:mod:`._gp`): its unit coordinates, in numpy and
in torch, are clipped at FAR_UNIT, and ``kernel="auto"`` asks :func:`near_duplicates` before it
tries nuggets below its first.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

__all__ = ["FAR_UNIT", "NEAR_DUPLICATE", "clip_far", "near_duplicates"]

# unit coordinates are clipped here: every correlation this far is 0 for any length scale, and
# beyond ~1e154 the squared distances |a|^2 + |b|^2 - 2 a.b would overflow to inf - inf = NaN
FAR_UNIT = 1e100
NEAR_DUPLICATE = 1e-6  # unit-cube distance below which two runs are (nearly) the same point


def clip_far(unit: Any) -> Any:
    """``unit`` (an array or a tensor) clipped to [-FAR_UNIT, FAR_UNIT]."""
    if isinstance(unit, torch.Tensor):
        return unit.clamp(-FAR_UNIT, FAR_UNIT)
    return np.clip(unit, -FAR_UNIT, FAR_UNIT)


def near_duplicates(U: np.ndarray) -> bool:
    """Whether two of the points ``U`` (n, d) are closer than NEAR_DUPLICATE (a k-d tree:
    O(n log n), no n x n matrix). With such a pair a nugget below 1e-10 makes the correlation
    matrix so nearly singular that the predictive variance (1 minus nearly 1) loses its digits
    in float64 -- exact zeros, a quarter of held-out errors beyond 3 std -- while the
    leave-one-out comparison of ``kernel="auto"``, which scores the mean only, preferred it."""
    from scipy.spatial import cKDTree

    if len(U) < 2:
        return False
    distance, _ = cKDTree(U).query(U, k=2)
    return bool(distance[:, 1].min() < NEAR_DUPLICATE)


def cell_codes(X: Any, cells: dict[int, int]) -> Any:
    """``X`` (n, d; an array or a tensor) with each column ``j`` of ``cells`` read as a point of
    ``[0, 1]`` split into ``cells[j]`` equal cells (a categorical parameter in the unit cube of
    :mod:`surrogate.space`) and replaced by the code ``0 .. cells[j] - 1`` of its cell.

    Examples
    --------
    >>> cell_codes(np.array([[0.125, 0.3], [0.875, 0.3]]), {0: 4}).tolist()
    [[0.0, 0.3], [3.0, 0.3]]
    """
    if not cells:
        return X
    if isinstance(X, torch.Tensor):
        columns = list(X.unbind(dim=1))
        for j, k in cells.items():
            columns[j] = (columns[j].detach() * k).floor().clamp(0, k - 1)
        return torch.stack(columns, dim=1)
    out = np.array(X, dtype=np.float64, copy=True)
    for j, k in cells.items():
        out[:, j] = np.clip(np.floor(out[:, j] * k), 0, k - 1)
    return out
