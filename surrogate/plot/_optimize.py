"""Convergence plot of an optimization: best feasible objective against teacher evaluations."""

from __future__ import annotations

from typing import Any

import numpy as np

from surrogate.plot._axes import single_axes

__all__ = ["convergence"]


def convergence(result: Any, *, ax: Any = None) -> Any:
    """Plot the best feasible objective value found after each evaluation.

    Evaluations before the first feasible one are left blank; every evaluation (failed and
    infeasible ones included) counts on the x axis, as it does against the budget. Feasible
    evaluations are drawn as points, the best-so-far as a step line, failed ones as crosses on
    the bottom edge.

    Parameters
    ----------
    result : OptimizationResult
        From :func:`surrogate.minimize` or :func:`surrogate.maximize`.
    ax : matplotlib Axes, optional
        Where to draw; a new figure by default.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from surrogate.optimize import minimize
    >>> from surrogate.space import Real, Space
    >>> result = minimize(lambda p: p["x"] ** 2, space=Space([Real("x", -1, 1)]), budget=6,
    ...                   seed=0)
    >>> ax = convergence(result)
    >>> len(ax.lines[0].get_xdata())
    6
    """

    if not hasattr(result, "best_so_far") or not hasattr(result, "history"):
        raise TypeError(f"expected an OptimizationResult, got {type(result).__name__}")
    if not result.n_evaluations:  # minimize_surrogate: its local optima, no teacher run
        raise ValueError("convergence plots teacher evaluations; this result made none (a "
                         "minimize_surrogate result: its history holds the surrogate's local "
                         "optima)")
    ax = single_axes(ax, figsize=(6, 4), layout="constrained")
    evaluations = np.arange(1, result.n_evaluations + 1)
    best = result.best_so_far()
    ax.step(evaluations, best, where="post", color="C0", label="best feasible so far")
    feasible = result.feasible_mask()
    values = result.history.Y[result.output].to_numpy(dtype=float)
    ax.plot(evaluations[feasible], values[feasible], "o", color="C0", alpha=0.35, markersize=4,
            label="feasible evaluations")
    failed = ~np.asarray(result.history.ok, dtype=bool)
    if failed.any():  # marked on the bottom edge: they spent budget but have no value
        ax.plot(evaluations[failed], np.zeros(int(failed.sum())), "x", color="C3",
                transform=ax.get_xaxis_transform(), clip_on=False,
                label=f"failed evaluations ({int(failed.sum())})")
    ax.set_xlabel("teacher evaluations")
    ax.set_ylabel(f"{result.output} ({result.sense})")
    ax.legend(loc="best")
    return ax
