"""Learning curve of an adaptive design: the student's fidelity estimate against teacher runs."""

from __future__ import annotations

from typing import Any

import numpy as np

from surrogate.plot._axes import single_axes

__all__ = ["learning_curve"]

_LABELS = {"q2_loo": "leave-one-out Q²", "misclassified": "expected misclassified share"}


def learning_curve(result: Any, ax: Any = None) -> Any:
    """Plot the fidelity estimate after each round against the teacher runs spent.

    A horizontal line marks the target when the design had one; an expected misclassified
    share is drawn on a log scale.

    Parameters
    ----------
    result : AdaptiveResult
        From :func:`surrogate.sequential.adaptive_sample`.
    ax : matplotlib Axes, optional
        Where to draw; a new figure by default.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from surrogate.sequential import adaptive_sample
    >>> from surrogate.space import Real, Space
    >>> result = adaptive_sample(lambda p: p["x"] ** 2, space=Space([Real("x", -1, 1)]),
    ...                          budget=6, seed=0)
    >>> ax = learning_curve(result)
    >>> ax.lines[0].get_xdata().tolist()
    [3, 4, 5, 6]
    """

    history = getattr(result, "history", None)
    name = getattr(result, "fidelity", None)
    if history is None or not hasattr(result, "stopped"):
        raise TypeError(f"expected an AdaptiveResult, got {type(result).__name__}")
    if name is None or name not in history:
        raise ValueError("this design has no fidelity estimate to plot (its acquisition "
                         "defines none)")
    ax = single_axes(ax, figsize=(6, 4), layout="constrained")
    ax.plot(history["n_runs"].to_numpy(), history[name].to_numpy(dtype=float), "o-",
            color="C0", markersize=3, label=_LABELS.get(name, name))
    if result.target is not None:
        ax.axhline(result.target, color="C3", linestyle="--", linewidth=1,
                   label=f"target {result.target:g}")
    if name == "misclassified":  # shares fall by decades; an exact 0 stays on the axis
        values = history[name].to_numpy(dtype=float)
        positive = values[np.isfinite(values) & (values > 0)]
        ax.set_yscale("symlog", linthresh=float(positive.min()) if len(positive) else 1e-3)
    ax.set_xlabel("teacher runs")
    ax.set_ylabel(_LABELS.get(name, name))
    ax.set_title(f"{result.goal}: stopped by {result.stopped}")
    ax.legend(loc="best")
    return ax
