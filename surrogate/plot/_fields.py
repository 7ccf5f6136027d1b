"""Plots of field outputs: surrogate fan charts, Sobol' indices over time, trajectories by outcome.

The last stage for trajectories. Each function takes a result (a fitted field surrogate, the
indices of :func:`~surrogate.sensitivity.sobol_indices` for a field, a transfer set with a box),
draws on ``ax`` (or a new figure) and returns what it drew.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from surrogate._checks import warn_if_misaligned
from surrogate.data import TransferSet
from surrogate.plot._axes import given_axes, single_axes
from surrogate.plot._discovery import check_box

__all__ = ["fan", "sobol_over_time", "trajectories"]

_Z95 = 1.959963984540054  # two-sided 95 % normal quantile
MAX_FAN_RUNS = 12  # more bands than this are unreadable


def fan(model: Any, X: Any, Y: Any = None, ax: Any = None) -> Any:
    """Fan chart: a field surrogate's mean and 95 % band for chosen points, with the teacher's
    trajectories when given.

    One colour per point: the predicted mean trajectory (line), the pointwise 95 % band
    (shaded: the model's ``predict_band``, mapped back through a ``y_transform``; else
    ``mean +- 1.96 std``; it includes the truncation error) and the teacher's trajectory
    (dots).

    Parameters
    ----------
    model : FieldGPRegressor
        A fitted field surrogate (``predict(X, return_std=True)`` and ``grid_``).
    X : DataFrame or 2-D array
        The points, at most 12 (e.g. a few held-out runs: ``runs.X.iloc[:4]``).
    Y : DataFrame or 2-D array, optional
        The teacher's trajectories at ``X`` (e.g. ``runs.field("I").iloc[:4]``).
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from surrogate.models import FieldGPRegressor
    >>> t = np.linspace(0, 2, 15)
    >>> X = np.linspace(0.5, 2.0, 12)[:, None]
    >>> model = FieldGPRegressor(seed=0).fit(X, np.exp(-X * t))
    >>> ax = fan(model, X[:2], np.exp(-X[:2] * t))
    >>> len(ax.lines), len(ax.collections)  # 2 means, 2 teacher dot lines; 2 bands
    (4, 2)
    """

    grid = getattr(model, "grid_", None)
    if grid is None or not hasattr(model, "predict"):
        raise ValueError("fan needs a fitted field surrogate (a FieldGPRegressor after fit), "
                         f"got {type(model).__name__}")
    if np.ndim(X) == 2 and np.shape(X)[0] > MAX_FAN_RUNS:  # refused before predicting them all
        _too_many(np.shape(X)[0])
    mean, std = (np.asarray(a, dtype=float).reshape(-1, len(grid))
                 for a in model.predict(X, return_std=True))
    if hasattr(model, "predict_band"):  # mapped back through a y_transform exactly
        low, high = (np.asarray(a, dtype=float).reshape(-1, len(grid))
                     for a in model.predict_band(X, 0.95))
    else:
        low, high = mean - _Z95 * std, mean + _Z95 * std
    if len(mean) > MAX_FAN_RUNS:
        _too_many(len(mean))
    if Y is not None:
        from surrogate.models._field_basis import check_field_columns  # loaded on first use

        check_field_columns(Y, getattr(model, "columns_", None))
        warn_if_misaligned(X, Y)  # read by position: a run labelled with another's values
    try:
        teacher = None if Y is None else np.asarray(Y, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"Y must be numbers: one trajectory per row of X on the model's grid "
                         f"({len(grid)} values each)") from None
    if teacher is not None:
        if teacher.ndim == 1:  # one trajectory, or one value per point on a grid of one
            teacher = teacher.reshape(-1, 1) if len(grid) == 1 else teacher.reshape(1, -1)
        if teacher.ndim != 2 or teacher.shape != (len(mean), len(grid)):
            raise ValueError(f"Y must hold one trajectory per row of X on the model's grid, "
                             f"shape ({len(mean)}, {len(grid)}); got {teacher.shape}")
    ax = single_axes(ax, figsize=(6.0, 3.5), layout="constrained")
    names = _row_names(X, len(mean))
    for i, row_mean in enumerate(mean):
        color = f"C{i % 10}"
        ax.fill_between(grid, low[i], high[i], color=color, alpha=0.2, linewidth=0)
        ax.plot(grid, row_mean, color=color, linewidth=1.5, label=f"{names[i]}: surrogate")
        if teacher is not None:
            ax.plot(grid, teacher[i], linestyle="none", marker="o", markersize=3, color=color,
                    label=f"{names[i]}: teacher")
    ax.set_xlabel("time")
    ax.set_ylabel(getattr(model, "field_", None) or "field")
    ax.legend(frameon=False, fontsize="small", loc="upper left", bbox_to_anchor=(1.0, 1.0))
    ax.set_title("surrogate mean and 95 % band" + (" vs teacher" if teacher is not None else ""))
    return ax


def _too_many(n: int) -> None:
    raise ValueError(f"fan draws at most {MAX_FAN_RUNS} points (one band each), got {n}; pass a "
                     "few rows, e.g. X.iloc[:4]")


def _row_names(X: Any, n: int) -> list[str]:
    if isinstance(X, pd.DataFrame):
        return [f"run {i}" for i in X.index]
    return [f"point {i}" for i in range(n)]


def sobol_over_time(indices: pd.DataFrame, ax: Any = None) -> Any:
    """Sobol' indices of a field over its grid: S1 (solid, with its 95 % interval shaded) and
    ST (dashed), one colour per parameter.

    Parameters
    ----------
    indices : DataFrame
        As returned by :func:`~surrogate.sensitivity.sobol_indices` for a field: indexed by
        (``time``, ``parameter``), columns ``S1, S1_conf, ST, ST_conf``. The aggregated indices
        (``attrs["aggregated"]``), when present, are written in the legend.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> index = pd.MultiIndex.from_product([[0.0, 1.0, 2.0], ["a", "b"]],
    ...                                    names=["time", "parameter"])
    >>> frame = pd.DataFrame({"S1": [0.5, 0.5, 0.7, 0.3, 0.9, 0.1], "S1_conf": 0.05,
    ...                       "ST": [0.5, 0.5, 0.7, 0.3, 0.9, 0.1], "ST_conf": 0.05},
    ...                      index=index)
    >>> ax = sobol_over_time(frame)
    >>> [line.get_label() for line in ax.lines]
    ['a: S1', 'a: ST', 'b: S1', 'b: ST']
    """

    needed = ("S1", "S1_conf", "ST", "ST_conf")
    if (not isinstance(indices, pd.DataFrame) or indices.index.nlevels != 2
            or any(c not in indices.columns for c in needed)
            or not pd.api.types.is_numeric_dtype(indices.index.get_level_values(0))):
        raise ValueError("indices must be the DataFrame sobol_indices returns for a field: "
                         "indexed by (time, parameter), with columns S1, S1_conf, ST, ST_conf")
    ax = single_axes(ax, figsize=(6.0, 3.5), layout="constrained")
    aggregated = indices.attrs.get("aggregated")
    parameters = list(dict.fromkeys(indices.index.get_level_values(1)))
    for j, parameter in enumerate(parameters):
        rows = indices.xs(parameter, level=1)
        time = rows.index.to_numpy(dtype=float)
        color = f"C{j % 10}"
        s1, conf = rows["S1"].to_numpy(), rows["S1_conf"].to_numpy()
        suffix = ""
        if isinstance(aggregated, pd.DataFrame) and parameter in aggregated.index:
            suffix = f" (over the field {aggregated.loc[parameter, 'S1']:.2f})"
        ax.fill_between(time, s1 - conf, s1 + conf, color=color, alpha=0.15, linewidth=0)
        ax.plot(time, s1, color=color, linewidth=1.5, label=f"{parameter}: S1{suffix}")
        ax.plot(time, rows["ST"].to_numpy(), color=color, linewidth=1.0, linestyle="--",
                label=f"{parameter}: ST")
    ax.set_xlabel(indices.index.names[0] or "time")
    ax.set_ylabel("Sobol' index")
    ax.set_ylim(-0.05, 1.05)
    ax.legend(frameon=False, fontsize="small", loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return ax


def trajectories(runs: Any, field: str, outcome: Any, *, box: Any = None, ax: Any = None,
                 max_lines: int = 300) -> np.ndarray:
    """Trajectories of a field coloured by whether they meet an outcome, split by a box.

    Runs meeting the outcome are drawn in red, the others in grey. With a ``box`` (e.g. from
    PRIM or REDS) the runs inside it and those outside are drawn in two panels: a good box
    holds mostly red trajectories and leaves few outside.

    Parameters
    ----------
    runs : TransferSet
        Only its successful runs are drawn.
    field : str
        The field to draw.
    outcome : str or array-like of bool
        An outcome expression (see :func:`~surrogate.discovery.outcome`), or one label per
        successful run.
    box : Box, optional
        Splits the runs by :meth:`Box.contains` on their inputs.
    ax : matplotlib Axes, Figure or sequence of two Axes, optional
        One Axes (or a Figure to draw it in) without a box, two (inside, outside) with one.
    max_lines : int, default 300
        At most this many trajectories per panel (evenly spaced runs), so the plot stays
        readable and fast.

    Returns
    -------
    ndarray of matplotlib Axes
        One panel, or two (inside the box, outside it).

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> import surrogate as sg
    >>> space = sg.Space([sg.Real("k", 0.1, 1.0)])
    >>> times = np.linspace(0, 3, 10)
    >>> sim = sg.Simulator(lambda X: np.exp(-np.outer(X["k"], times)), space,
    ...                    fields={"y": times}, vectorized=True)
    >>> runs = sim.run(sg.sample(space, 20, seed=0), progress=False)
    >>> axes = trajectories(runs, "y", "final(y) > 0.2")
    >>> len(axes), len(axes[0].lines)
    (1, 20)
    """
    import matplotlib.pyplot as plt

    from surrogate.discovery._outcome import outcome as evaluate_outcome

    if isinstance(max_lines, bool) or not isinstance(max_lines, int | np.integer) \
            or max_lines < 1:
        raise ValueError(f"max_lines must be an int >= 1, got {max_lines!r}")
    if not isinstance(runs, TransferSet):
        raise TypeError(f"runs must be a TransferSet (with the field's trajectories), got a "
                        f"{type(runs).__name__}")
    if box is not None:
        check_box(box)
    valid = runs.valid()
    Y = valid.field(field)
    if isinstance(outcome, str):
        labels = evaluate_outcome(outcome, valid).to_numpy()
        title = outcome
    else:
        labels = _labels(outcome)
        title = "outcome"
        if len(labels) != len(Y):
            raise ValueError(f"outcome has {len(labels)} labels for {len(Y)} successful runs")
    groups = [("all runs", np.ones(len(Y), dtype=bool))]
    if box is not None:
        inside = np.asarray(box.contains(valid.X), dtype=bool)
        groups = [("inside the box", inside), ("outside the box", ~inside)]
    axes = _panels(ax, len(groups), plt)
    grid = Y.columns.to_numpy(dtype=float)
    values = Y.to_numpy()
    for axis, (name, members) in zip(axes, groups, strict=True):
        rows = np.flatnonzero(members)
        if len(rows) > max_lines:
            rows = rows[np.linspace(0, len(rows) - 1, max_lines).astype(int)]
        for meets in (False, True):  # cases of interest on top
            chosen = rows[labels[rows] == meets]
            for i, row in enumerate(chosen):
                axis.plot(grid, values[row], color="tab:red" if meets else "0.6",
                          alpha=0.7 if meets else 0.4, linewidth=0.8,
                          label=(f"{title}" if meets else f"not {title}") if i == 0 else None)
        axis.set_title(f"{name}: {int(labels[members].sum())} of {int(members.sum())} meet it",
                       fontsize="small")
        axis.set_xlabel("time")
        axis.set_ylabel(field)
    axes[0].legend(frameon=False, fontsize="small")
    return axes


def _panels(ax: Any, n: int, plt: Any) -> np.ndarray:
    if ax is None:
        _, made = plt.subplots(1, n, figsize=(4.5 * n, 3.5), sharey=True, squeeze=False,
                               layout="constrained")
        return made[0]
    if n == 1 and not isinstance(ax, list | tuple | np.ndarray):
        return np.array([single_axes(ax)], dtype=object)  # an Axes, or a Figure to draw in
    wanted = "inside and outside the box" if n == 2 else "one panel"
    return given_axes(ax, n, f"{n} Axes here ({wanted})")


def _labels(outcome: Any) -> np.ndarray:
    """Booleans, or 0/1 and probabilities read as ``>= 0.5`` (as :func:`box` reads them: a
    probability of 0.2 counted as meeting the outcome); anything else refused."""
    values = np.asarray(outcome).reshape(-1)
    if values.dtype == bool:
        return values
    try:
        numbers = values.astype(float)
    except (TypeError, ValueError):
        numbers = None
    if numbers is None or not ((numbers >= 0) & (numbers <= 1)).all():
        raise ValueError("outcome must be an expression, booleans, 0/1 or probabilities of "
                         f"meeting it; got values such as {values[:3].tolist()}")
    return numbers >= 0.5
