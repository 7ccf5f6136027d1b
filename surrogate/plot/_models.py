"""Parity plot: a surrogate's predictions against the teacher's values."""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np

__all__ = ["parity"]


def parity(model: Any, X: Any, y: Any, *, ax: Any = None, output: int = 0) -> Any:
    """Predicted against true values, with 95% error bars when the model has a std.

    Parameters
    ----------
    model : fitted regressor
        Anything with ``predict(X)`` (and optionally ``predict(X, return_std=True)``).
    X : DataFrame or array-like of shape (n_samples, n_features)
        Points the model has not seen, for an honest picture.
    y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        The teacher's values at ``X``.
    ax : matplotlib Axes, optional
        Drawn on a new figure when None.
    output : int, default=0
        Column of a multi-output model to show.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import numpy as np
    >>> from surrogate.models import GPRegressor
    >>> X = np.linspace(0, 1, 10)[:, None]
    >>> ax = parity(GPRegressor(seed=0).fit(X, X[:, 0] ** 2), X, X[:, 0] ** 2)
    >>> ax.get_xlabel()
    'true'
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(4.5, 4.5))
    truth = np.asarray(y, dtype=float).reshape(len(y), -1)[:, output]
    if "return_std" in inspect.signature(model.predict).parameters:
        mean, std = model.predict(X, return_std=True)
    else:
        mean, std = model.predict(X), None
    mean = np.asarray(mean, dtype=float).reshape(len(truth), -1)[:, output]
    yerr = None if std is None else 1.959964 * np.asarray(std).reshape(len(truth), -1)[:, output]
    ax.errorbar(truth, mean, yerr=yerr, fmt="o", markersize=3, alpha=0.7, elinewidth=0.8,
                label="95% interval" if yerr is not None else "prediction")
    low, high = float(min(truth.min(), mean.min())), float(max(truth.max(), mean.max()))
    ax.plot([low, high], [low, high], color="black", linewidth=1, label="y = x")
    ss_res = float(((truth - mean) ** 2).sum())
    ss_tot = float(((truth - truth.mean()) ** 2).sum())
    q2 = 1.0 - ss_res / ss_tot if ss_tot > 0 else float("nan")
    ax.set_xlabel("true")
    ax.set_ylabel("predicted")
    ax.set_title(f"{type(model).__name__}: Q² = {q2:.4f}")
    ax.legend(loc="upper left")
    return ax
