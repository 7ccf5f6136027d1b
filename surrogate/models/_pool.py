"""A linear opinion pool of fitted classifiers: the ensemble :class:`AutoClassifier` chooses
when pooling its candidates' probabilities beats each of them (out of fold).

Part of the models stage.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.optimize import minimize
from scipy.special import softmax

__all__ = ["Ensemble", "pool_weights", "MIN_WEIGHT"]

MIN_WEIGHT = 1e-3  # members of the ensemble below this weight are dropped


class Ensemble:
    """Members fitted on all points whose positive-class probabilities are pooled.

    ``P(y = 1 | x) = sum_k w_k P_k(y = 1 | x)`` with non-negative weights summing to 1, chosen
    to minimize the log loss of the members' out-of-fold probabilities (stacking with a linear
    opinion pool: Wolpert 1992; Breiman 1996 for the non-negative weights).

    Attributes
    ----------
    estimators_ : dict
        Name -> fitted member.
    weights_ : dict
        Name -> weight.
    classes_ : ndarray
        ``[0, 1]`` (the members are fitted on 0/1 labels).
    """

    def __init__(self, estimators: dict[str, Any], weights: dict[str, float]) -> None:
        self.estimators_ = estimators
        self.weights_ = weights
        self.classes_ = np.array([0, 1])


def pool_weights(P: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Convex weights (k,) minimizing the log loss of the pooled probabilities ``P @ w``.

    ``P`` (n, k): out-of-fold positive-class probabilities of k candidates. Weights under
    MIN_WEIGHT are set to 0 (the rest renormalized), so that no member is refitted for nothing.

    Examples
    --------
    >>> P = np.array([[0.9, 0.6], [0.2, 0.4], [0.8, 0.5]])
    >>> pool_weights(P, np.array([1, 0, 1])).round(3).tolist()
    [1.0, 0.0]
    """
    P = np.clip(P, 1e-15, 1 - 1e-15)

    def loss(a: np.ndarray) -> tuple[float, np.ndarray]:
        w = softmax(a)
        p = P @ w
        dp = np.where(target == 1, -1.0 / p, 1.0 / (1.0 - p)) / len(p)  # d loss / d p
        g_w = P.T @ dp
        return float(-np.mean(target * np.log(p) + (1 - target) * np.log1p(-p))), \
            w * (g_w - w @ g_w)  # chain rule through the softmax

    a = minimize(loss, np.zeros(P.shape[1]), jac=True, method="L-BFGS-B").x
    w = softmax(a)
    w[w < MIN_WEIGHT] = 0.0
    return w / w.sum()
