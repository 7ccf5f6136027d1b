"""Plots of scenario discovery results: the PRIM trade-off, a box over the data, box limits.

Each function takes a result (a fitted PRIM/REDS, or a :class:`~surrogate.discovery.Box`),
draws on ``ax`` (or a new figure) and returns what it drew; matplotlib is imported only here,
when a plot is made (STYLE 5).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from surrogate._checks import warn_if_misaligned
from surrogate.discovery._box import Box
from surrogate.discovery._data import CATEGORICAL, _check_missing, as_frame
from surrogate.plot._axes import given_axes, root_figure, single_axes

__all__ = ["box", "box_limits", "tradeoff"]

_MAX_POINTS = 5000  # scatter plots draw at most this many points (a fixed random subset)
JITTER_SEED = 7_654_321  # categorical jitter: fixed, and not the seed 0 a user's data often has


def tradeoff(prim: Any, *, ax: Any = None) -> Any:
    """Density against coverage along a PRIM trajectory, coloured by restricted dimensions.

    Parameters
    ----------
    prim : PRIM or REDS (fitted), or a trajectory DataFrame
        Needs the columns ``coverage, density, n_restricted``.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
        One scatter point per box; a colour bar gives the number of restricted dimensions.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from surrogate.discovery import PRIM
    >>> rng = np.random.default_rng(0)
    >>> X = pd.DataFrame(rng.uniform(size=(500, 2)), columns=["a", "b"])
    >>> prim = PRIM().fit(X, X.a > 0.5)
    >>> ax = tradeoff(prim)
    >>> len(ax.collections[0].get_offsets()) == len(prim.trajectory_)
    True
    """
    import matplotlib.pyplot as plt
    from matplotlib.colors import BoundaryNorm

    trajectory = prim if isinstance(prim, pd.DataFrame) else getattr(prim, "trajectory_", None)
    needed = {"coverage", "density", "n_restricted"}
    if not isinstance(trajectory, pd.DataFrame) or not needed <= set(trajectory.columns):
        raise TypeError("prim must be a fitted PRIM/REDS or a trajectory DataFrame with "
                        "columns coverage, density, n_restricted")
    if trajectory.empty:
        raise ValueError("the trajectory is empty: no box to draw")
    ax = single_axes(ax, figsize=(5, 4), layout="constrained")
    top = int(trajectory["n_restricted"].max())
    norm = BoundaryNorm(np.arange(-0.5, top + 1.5), plt.get_cmap("viridis").N)
    points = ax.scatter(trajectory["coverage"], trajectory["density"],
                        c=trajectory["n_restricted"], cmap="viridis", norm=norm, s=18)
    colorbar = ax.figure.colorbar(points, ax=ax, ticks=np.arange(top + 1))
    colorbar.set_label("restricted dimensions")
    ax.set_xlabel("coverage")
    ax.set_ylabel("density")
    ax.set_xlim(0, 1.05)
    ax.set_ylim(0, 1.05)
    return ax


def _positions(values: pd.Series, box_: Box, name: str) -> tuple[np.ndarray, list[tuple[float, float]], list[str] | None]:
    """Plot coordinates of a column, the box's intervals on it, and tick labels (categorical)."""
    domain = box_._domain
    low, high = box_._limit(name)
    if domain.kind(name) == CATEGORICAL:
        categories = list(domain.categories[domain.categorical_names.index(name)])
        lookup = {c: i for i, c in enumerate(categories)}
        codes = values.map(lookup).to_numpy(dtype=float)
        # a stream per column: with one shared stream two categorical columns got the same
        # offsets, and their panel drew every point on a diagonal line (a false correlation)
        jitter = np.random.default_rng([JITTER_SEED, domain.names.index(name)]).uniform(
            -0.3, 0.3, len(codes))
        spans = [(lookup[c] - 0.4, lookup[c] + 0.4) for c in low if c in lookup]
        return codes + jitter, spans, [str(c) for c in categories]
    x = values.to_numpy(dtype=float)
    low = low if np.isfinite(low) else np.min(x)
    high = high if np.isfinite(high) else np.max(x)
    return x, [(low, high)], None


def box(box: Box, X: Any, y: Any, *, ax: Any = None) -> Any:
    """Pairs plot of a box's restricted parameters with the box drawn over the data.

    The diagonal holds histograms of each restricted parameter (cases of interest and the
    rest) with the box's range shaded; below it, scatter plots of each pair coloured by the
    label with the box drawn as rectangles (one per allowed category of a categorical
    parameter); the upper triangle is left empty. At most 5,000 points (a fixed random subset)
    are drawn.

    Parameters
    ----------
    box : Box
    X, y : experiments and labels (booleans, 0/1 or soft labels)
    ax : matplotlib Axes, Figure or array of Axes of shape (k, k), optional
        Where to draw (``k`` = number of restricted parameters): a single Axes gives its
        place to a k x k grid (it is used as it is when k = 1); a Figure gets the grid over
        its whole area; an array of k x k Axes is drawn into. Default: a new figure.

    Returns
    -------
    matplotlib.figure.Figure
        The figure drawn on. When the grid was made here, it is the figure's last ``k * k``
        Axes, row by row: ``np.reshape(figure.axes[-k * k:], (k, k))``.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from surrogate.discovery import PRIM
    >>> rng = np.random.default_rng(0)
    >>> X = pd.DataFrame(rng.uniform(size=(500, 3)), columns=["a", "b", "c"])
    >>> y = (X.a > 0.5) & (X.b > 0.5)
    >>> figure = box(PRIM().fit(X, y).box(), X, y)
    >>> len(figure.axes)
    4
    """
    from matplotlib.patches import Rectangle

    names = _restricted(box)
    frame = as_frame(X, names=box._domain.names)  # an array: in the columns of the box's data
    missing = [name for name in names if name not in frame.columns]
    if missing:
        raise ValueError(f"X lacks the box's restricted column(s) {missing}; X has "
                         f"{list(map(str, frame.columns))}")
    _check_missing(frame[names], "X")  # as box.contains: not a histogram's raw error
    warn_if_misaligned(X, y)  # read by position, as Box.evaluate reads them
    try:
        labels = np.asarray(y, dtype=float).ravel()
    except (TypeError, ValueError):
        raise TypeError("y must be booleans, 0/1 or probabilities (the case of interest), got "
                        f"values such as {np.asarray(y).ravel()[:3].tolist()}") from None
    if len(labels) != len(frame):
        raise ValueError(f"y has {len(labels)} values but X has {len(frame)} rows")
    if not np.isfinite(labels).all():
        raise ValueError(f"y has {int((~np.isfinite(labels)).sum())} missing (NaN) values; "
                         "drop those rows (their outcome is unknown)")
    if ((labels < 0) | (labels > 1)).any():  # e.g. the raw output: all drawn as cases
        raise ValueError("y must be booleans, 0/1 or probabilities in [0, 1] (the case of "
                         f"interest), as Box.evaluate reads it; got values up to "
                         f"{labels.max():.6g} and down to {labels.min():.6g} (threshold a "
                         "continuous outcome first, e.g. y > 0.5)")
    if len(frame) > _MAX_POINTS:
        keep = np.sort(np.random.default_rng(0).choice(len(frame), _MAX_POINTS, replace=False))
        frame, labels = frame.iloc[keep].reset_index(drop=True), labels[keep]
    k = len(names)
    axes = _pairs_axes(ax, k)
    coords = {name: _positions(frame[name], box, name) for name in names}
    for i, row_name in enumerate(names):
        for j, col_name in enumerate(names):
            target = axes[i, j]
            if j > i:
                target.set_axis_off()
                continue
            x, x_spans, x_ticks = coords[col_name]
            if i == j:
                # a categorical (jittered codes): one bar per category, not 20 bins over them
                bins: Any = 20 if x_ticks is None else np.arange(len(x_ticks) + 1) - 0.5
                target.hist([x[labels >= 0.5], x[labels < 0.5]], bins=bins, stacked=True,
                            color=["tab:red", "tab:blue"], label=["case of interest", "other"])
                for low, high in x_spans:
                    target.axvspan(low, high, color="tab:red", alpha=0.15)
            else:
                y_, y_spans, y_ticks = coords[row_name]
                target.scatter(x, y_, c=labels, cmap="coolwarm", vmin=0, vmax=1, s=6)
                for (x0, x1) in x_spans:
                    for (y0, y1) in y_spans:
                        target.add_patch(Rectangle((x0, y0), x1 - x0, y1 - y0, fill=False,
                                                   edgecolor="black", linewidth=2))
                if y_ticks is not None:
                    target.set_yticks(range(len(y_ticks)), y_ticks)
            if x_ticks is not None:
                target.set_xticks(range(len(x_ticks)), x_ticks)
            if i == k - 1:
                target.set_xlabel(col_name)
            if j == 0:
                target.set_ylabel(row_name if i else "count")
    return root_figure(axes[0, 0])


def _pairs_axes(ax: Any, k: int) -> np.ndarray:
    """The k x k Axes to draw on: new, over a Figure, in a single Axes' place, or given."""
    import matplotlib.pyplot as plt
    from matplotlib.axes import Axes
    from matplotlib.figure import FigureBase

    if ax is None:
        _, axes = plt.subplots(k, k, figsize=(2.8 * k + 1, 2.6 * k + 0.5), squeeze=False,
                               layout="constrained")
        return axes
    if isinstance(ax, FigureBase):
        return ax.subplots(k, k, squeeze=False)
    if isinstance(ax, Axes) and k > 1:
        spec = ax.get_subplotspec()
        if spec is None:
            raise ValueError(f"ax: a single Axes gives its place to the {k}x{k} grid of the box's "
                             f"{k} restricted parameters, which needs an Axes of a subplot grid "
                             f"(plt.subplots); pass a Figure or {k}x{k} Axes instead")
        figure, grid = ax.figure, spec.subgridspec(k, k)
        ax.remove()
        return np.array([[figure.add_subplot(grid[i, j]) for j in range(k)] for i in range(k)],
                        dtype=object)
    return given_axes(ax, k * k, f"an Axes, a Figure or {k}x{k} Axes for {k} restricted "
                      "parameters").reshape(k, k)


def box_limits(box: Box, *, ax: Any = None) -> Any:
    """The box's limits on each restricted parameter, relative to the data range, with qp values.

    One row per restricted parameter: the grey band is the data range (scaled to [0, 1]),
    the line the box's range (dots for the allowed categories of a categorical parameter),
    with the limit values written next to it. Row labels carry the quasi-p-values of the
    restriction (lower, upper), and the title the box's coverage and density.

    Parameters
    ----------
    box : Box
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from surrogate.discovery import PRIM
    >>> rng = np.random.default_rng(0)
    >>> X = pd.DataFrame(rng.uniform(size=(500, 3)), columns=["a", "b", "c"])
    >>> ax = box_limits(PRIM().fit(X, (X.a > 0.5) & (X.b < 0.4)).box())
    >>> [t.get_text().split(" ")[0] for t in ax.get_yticklabels()]
    ['a', 'b']
    """

    names = _restricted(box)
    ax = single_axes(ax, figsize=(6, 0.6 * len(names) + 1.5), layout="constrained")
    qp = box.qp
    domain = box._domain
    for row, name in enumerate(names):
        ax.axhspan(row - 0.3, row + 0.3, xmin=0, xmax=1, color="0.85")
        low, high = box._limit(name)
        if domain.kind(name) == CATEGORICAL:
            categories = list(domain.categories[domain.categorical_names.index(name)])
            scale = max(len(categories) - 1, 1)
            for value in low:
                x = categories.index(value) / scale
                ax.plot([x], [row], "o", color="tab:blue")
                ax.text(x, row - 0.35, str(value), ha="center", va="bottom", fontsize=8)
            continue
        j = domain.numeric_names.index(name)
        span = domain.high[j] - domain.low[j]
        lo = (low - domain.low[j]) / span if np.isfinite(low) else 0.0
        hi = (high - domain.low[j]) / span if np.isfinite(high) else 1.0
        ax.plot([lo, hi], [row, row], color="tab:blue", linewidth=4)
        for value, x in ((low, lo), (high, hi)):
            if np.isfinite(value):
                ax.text(x, row - 0.35, f"{value:.4g}", ha="center", va="bottom", fontsize=8)
    labels = []
    for name in names:
        values = [v for v in qp.loc[name].to_numpy(dtype=float) if np.isfinite(v)]
        labels.append(f"{name} ({', '.join(f'{v:.2g}' for v in values)})")
    ax.set_yticks(range(len(names)), labels)
    ax.set_ylim(len(names) - 0.5, -0.7)
    ax.set_xlim(-0.05, 1.05)
    ax.set_xticks([0, 1], ["data min", "data max"])
    ax.set_title(f"coverage {box.coverage:.3g}, density {box.density:.3g}")
    return ax


def check_box(box: Any) -> None:
    """``box`` must be a :class:`Box`; a PRIM, CART or REDS is named with how to take one."""
    if not isinstance(box, Box):
        hint = (f"; take one of its boxes, e.g. {type(box).__name__.lower()}.box()"
                if hasattr(box, "box") else "")
        raise TypeError(f"box must be a Box, got a {type(box).__name__}{hint}")


def _restricted(box: Any) -> list[str]:
    """The names of the parameters ``box`` restricts, refusing a box that restricts none."""
    check_box(box)
    names = list(box.restricted)
    if not names:
        raise ValueError("the box restricts no parameter; there is nothing to draw")
    return names
