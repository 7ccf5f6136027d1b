"""Where a design's runs went: a scatter matrix of its parameters, coloured by run order."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from surrogate.plot._axes import given_axes
from surrogate.space import Categorical, Real, Space

__all__ = ["design_pairs"]

MAX_INCHES = 12.0  # the whole matrix; many parameters get small panels, not a huge figure
MAX_POINTS = 5_000  # scattered per panel at most (a fixed random subset), as plot.box


def design_pairs(design: Any, color: Any = None, *, label: str = "run order",
                 axes: Any = None, ax: Any = None) -> np.ndarray:
    """Scatter every pair of a design's parameters, each point coloured (e.g. by its round).

    Off the diagonal, panel ``(i, j)`` puts parameter ``j`` on x and parameter ``i`` on y; the
    diagonal holds each parameter's histogram. A categorical column is drawn by its codes,
    labelled with its categories (in the space's order for a transfer set or a result, else in
    order of first appearance); a log-scale parameter of a transfer set's space on a log
    axis. At most 5,000 points (a fixed random subset) are scattered; the histograms and the
    colour scale use every point.

    Parameters
    ----------
    design : DataFrame, TransferSet, AdaptiveResult or OptimizationResult
        The points (a transfer set's inputs ``X``; a result's runs).
    color : array-like of shape (n,), optional
        A number per point (e.g. the round of an adaptive design); default the run order
        ``0 .. n-1``.
    label : str, default "run order"
        The colour bar's label.
    axes, ax : array of matplotlib Axes of shape (d, d), optional
        Where to draw (either name; ``ax`` as the other plots call it); a new figure by
        default.

    Returns
    -------
    numpy.ndarray of matplotlib Axes, shape (d, d)

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> frame = pd.DataFrame({"x": [0.1, 0.5, 0.9], "y": [1.0, 3.0, 2.0]})
    >>> axes = design_pairs(frame)
    >>> axes[1, 0].collections[0].get_offsets().tolist()
    [[0.1, 1.0], [0.5, 3.0], [0.9, 2.0]]
    """
    import matplotlib.pyplot as plt
    from matplotlib.figure import FigureBase

    if not isinstance(design, pd.DataFrame):  # an adaptive or optimization result: its runs
        for name in ("runs", "history"):
            runs = getattr(design, name, None)
            if runs is not None and not isinstance(runs, pd.DataFrame) and hasattr(runs, "X"):
                design = runs
                break
    frame = getattr(design, "X", design)
    space = getattr(design, "space", None)  # a transfer set's: categories' order, log scales
    parameters = {p.name: p for p in space} if isinstance(space, Space) else {}
    if not isinstance(frame, pd.DataFrame) or frame.shape[1] == 0 or len(frame) == 0:
        raise TypeError("design must be a DataFrame (or TransferSet) with at least one "
                        f"column and one row, got {type(design).__name__}")
    n, d = frame.shape
    values = np.arange(n, dtype=float) if color is None else _color_values(color, n)
    columns = {name: _numeric(frame[name], parameters.get(name)) for name in frame.columns}
    empty = [str(name) for name, (codes, _) in columns.items() if not np.isfinite(codes).any()]
    if empty:  # else numpy's "range of [nan, nan] is not finite" from the histogram
        raise ValueError(f"design column(s) {empty} hold no finite value to draw")
    log = {name: (p.low, p.high) for name, p in parameters.items()
           if isinstance(p, Real) and p.log}  # name -> its range
    finite = values[np.isfinite(values)]  # NaN and inf: not drawn
    low, high = float(finite.min()), float(finite.max())
    values = np.where(np.isfinite(values), values, np.nan)
    if n > MAX_POINTS:  # a fixed random subset is drawn (10^5 points took 24 s to save);
        keep = np.sort(np.random.default_rng(0).choice(n, MAX_POINTS, replace=False))
        values = values[keep]  # the histograms and the colour scale still see every point
        scatter = {name: (column[0][keep], column[1]) for name, column in columns.items()}
    else:
        scatter = columns
    if ax is not None:
        if axes is not None:
            raise TypeError("design_pairs takes axes= or ax=, not both")
        axes = ax
    if axes is None:
        size = min(MAX_INCHES, 2.2 * d + 1.0)
        _, axes = plt.subplots(d, d, figsize=(size + 1.0, size), squeeze=False,
                               layout="constrained")
    if isinstance(axes, FigureBase):  # a Figure to draw the grid in
        axes = axes.subplots(d, d, squeeze=False)
    axes = given_axes(axes, d * d, f"a {d} x {d} grid (one panel per pair of the {d} "
                      "columns) or a Figure", name="axes").reshape(d, d)
    names = list(frame.columns)
    drawn = None
    for i, row in enumerate(names):
        for j, col in enumerate(names):
            ax = axes[i, j]
            bins = min(20, max(5, n // 4))
            if i == j and col in log:  # even bins on the log axis
                ax.hist(columns[col][0], bins=np.geomspace(*log[col], bins + 1), color="C0")
            elif i == j:
                ax.hist(columns[col][0], bins=bins, color="C0")
            else:
                drawn = ax.scatter(scatter[col][0], scatter[row][0], c=values, s=12,
                                   cmap="viridis", vmin=low, vmax=high)
            _ticks(ax, columns[col][1], "x")
            if col in log:
                ax.set_xscale("log")
            if i != j:
                _ticks(ax, columns[row][1], "y")
                if row in log:
                    ax.set_yscale("log")
            ax.set_xlabel(str(col) if i == d - 1 else "")
            ax.set_ylabel(str(row) if j == 0 else "")
    if drawn is not None:
        axes[0, 0].figure.colorbar(drawn, ax=axes.ravel().tolist(), label=label)
    return axes


def _numeric(column: pd.Series, parameter: Any = None) -> tuple[np.ndarray, list[Any] | None]:
    """A column as numbers, and the categories behind the codes of a categorical one (in the
    order of its ``parameter``'s categories when given, else of first appearance)."""
    if isinstance(parameter, Categorical):
        return parameter.codes(column.to_numpy(dtype=object)).astype(float), \
            list(parameter.categories)
    if pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column):
        return column.to_numpy(dtype=float), None
    codes, categories = pd.factorize(column.astype(object))
    return codes.astype(float), list(categories)


def _ticks(ax: Any, categories: list[Any] | None, axis: str) -> None:
    if categories is None:
        return
    positions = list(range(len(categories)))
    labels = [str(c) for c in categories]
    if axis == "x":
        ax.set_xticks(positions, labels)
    else:
        ax.set_yticks(positions, labels)


def _color_values(color: Any, n: int) -> np.ndarray:
    """``color`` as one float per point; refused by name when it is not numbers, has another
    length or holds no finite value (a failed run's NaN is left undrawn by the colour map)."""
    try:
        values = np.asarray(color, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"color must hold one number per point ({n}), got values such as "
                         f"{np.asarray(color).ravel()[:1].tolist()}") from None
    if values.shape != (n,):
        raise ValueError(f"color must hold one number per point ({n}), got shape "
                         f"{values.shape}")
    if not np.isfinite(values).any():
        raise ValueError("color holds no finite value (every point NaN or infinite)")
    return values
