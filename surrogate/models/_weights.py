"""Sample weights of the students: checked in one place, class-weighted duplicates collapsed.

Stage "models" of the pipeline. A classifier learns a teacher's soft labels
(:func:`surrogate.distill`) as class-weighted duplicates: each point once per class, weighted by
the teacher's probability of that class. A student that can learn a point's share of each class
directly -- the neural classifier's cross-entropy, a regression tree on the shares
(:class:`~surrogate.distillation.PrunedTree`) -- collapses them back to one point per distinct
row with :func:`class_shares`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["check_sample_weight", "class_shares", "points_to_learn"]


def check_sample_weight(sample_weight: Any, n: int) -> np.ndarray:
    """``sample_weight`` as ``n`` finite weights >= 0 (ones for None), else a ValueError.

    Examples
    --------
    >>> check_sample_weight(None, 2).tolist(), check_sample_weight([0.5, 2], 2).tolist()
    ([1.0, 1.0], [0.5, 2.0])
    """
    if sample_weight is None:
        return np.ones(n)
    try:
        weight = np.asarray(sample_weight, dtype=float).ravel()
    except (TypeError, ValueError):
        weight = np.array([np.nan])
    if len(weight) != n or not np.all(np.isfinite(weight)) or (weight < 0).any():
        raise ValueError(f"sample_weight must be {n} finite weights >= 0")
    return weight


def class_shares(X: np.ndarray, codes: np.ndarray, weight: np.ndarray, n_classes: int,
                 dtype: Any = np.float64, *, in_order: bool = False
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Distinct rows of ``X`` (n, d) -- compared as ``dtype``, returned as float64 -- and their
    weight per class (m, n_classes), ``codes`` (n,) being each row's class ``0 .. k-1``: the
    class-weighted duplicates of a point collapse to that point with the teacher's
    probabilities (times the point's weight). Rows of no weight are left out. The points come
    in a canonical order (sorted by their bytes), or with ``in_order`` in the order of their
    first row (rows that repeat no other come back as they were).

    Examples
    --------
    >>> X = np.array([[0.5], [0.5], [0.1]])
    >>> points, reward = class_shares(X, np.array([0, 1, 1]), np.array([0.3, 0.7, 1.0]), 2)
    >>> points.ravel().tolist(), reward.tolist()
    ([0.5, 0.1], [[0.3, 0.7], [0.0, 1.0]])
    """
    X = np.ascontiguousarray(X, dtype=dtype)
    rows = X.view(np.dtype((np.void, X.dtype.itemsize * X.shape[1]))).ravel()
    _, first, inverse = np.unique(rows, return_index=True, return_inverse=True)
    inverse = inverse.ravel()
    if in_order:  # renumber the points by their first row
        rank = np.empty(len(first), dtype=np.intp)
        rank[np.argsort(first, kind="stable")] = np.arange(len(first))
        first, inverse = np.sort(first), rank[inverse]
    reward = np.zeros((len(first), n_classes))
    np.add.at(reward, (inverse, codes), weight)
    some = reward.sum(axis=1) > 0
    if not some.any():
        raise ValueError("sample_weight: every weight is zero; nothing to fit")
    return X[first][some].astype(np.float64), reward[some]


def points_to_learn(X: np.ndarray, codes: np.ndarray, weight: np.ndarray, n_classes: int
                    ) -> tuple[np.ndarray, np.ndarray]:
    """What a classifier that learns class shares fits: the points and their weight per class
    (see :func:`class_shares`). The rows as given (less those of weight 0) when no point
    repeats and the weights are equal; otherwise the distinct points in a canonical order, so
    that the same weighted points train the same model whatever the order and repetition of
    the rows they came as (a weight of 2 is a row given twice).

    Examples
    --------
    >>> X = np.array([[0.9], [0.1]])
    >>> points_to_learn(X, np.array([1, 0]), np.ones(2), 2)[0].ravel().tolist()  # as given
    [0.9, 0.1]
    >>> points_to_learn(X, np.array([1, 0]), np.array([1.0, 2.0]), 2)[0].ravel().tolist()
    [0.1, 0.9]
    """
    kept = weight > 0
    if kept.any() and np.ptp(weight[kept]) > 0:  # weighted: canonical, no first pass
        return class_shares(X, codes, weight, n_classes)
    points, reward = class_shares(X, codes, weight, n_classes, in_order=True)
    if len(points) < kept.sum():  # repeated points
        return class_shares(X, codes, weight, n_classes)
    return points, reward
