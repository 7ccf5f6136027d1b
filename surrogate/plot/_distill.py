"""Fidelity plot of distillations: how well students agree with their teacher, and how accurate
they are, for one distillation or across transfer-set or student sizes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from surrogate.plot._axes import single_axes

__all__ = ["fidelity"]

_NAMES = ("fidelity (held out)", "fidelity (Data 1)", "student accuracy", "teacher accuracy")


def _figures(distillation: Any) -> tuple[Any, Any, Any, Any]:
    """(held-out fidelity, Data 1 fidelity, student accuracy, teacher accuracy): agreement for
    classes (soft labels included, so higher is better throughout), Q² for values."""
    f = getattr(distillation, "fidelity_", None)
    if not isinstance(f, dict) or "metric" not in f:
        raise TypeError(f"expected a Distillation or a list of them, got {type(distillation).__name__}")
    if f["metric"] == "q2":
        return f["holdout"], f["data"], f["accuracy"], f["teacher_accuracy"]
    return f["holdout_agreement"], f["data_agreement"], f["accuracy"], f["teacher_accuracy"]


def fidelity(distillation_or_list: Any, ax: Any = None, *, x: str | None = None,
             label: str | None = None) -> Any:
    """Fidelity to the teacher and accuracy, of one distillation or several.

    One :class:`~surrogate.distillation.Distillation`: a bar per figure -- fidelity on held-out
    points and on Data 1 (the share of points where the student predicts the teacher's class;
    Q² for values), the student's and the teacher's accuracy on Data 1's true labels (where
    known). Several: one line per figure against ``x``, the teacher's accuracy dashed.

    Parameters
    ----------
    distillation_or_list : Distillation or sequence of Distillation
        E.g. the same teacher and student at several ``n``, or students of several sizes.
    ax : matplotlib Axes or Figure, optional
        Where to draw (a Figure: an Axes added to it); a new figure by default.
    x : {"n", "size"}, optional
        For several: the number of generated points, or the student's size (leaves of a tree,
        restricted parameters of a box). Default: ``"size"`` when the sizes differ, else ``"n"``.
    label : str, optional
        Prefix of the legend entries (to draw several series on one Axes).

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sklearn.tree import DecisionTreeClassifier
    >>> from surrogate.distillation import distill
    >>> from surrogate.space import Real, Space
    >>> space = Space([Real("x", -1, 1)])
    >>> runs = [distill(lambda p: p["x"], DecisionTreeClassifier(max_depth=2), space=space,
    ...                 threshold=("<", 0.0), n=n, seed=0) for n in (20, 40, 80)]
    >>> ax = fidelity(runs, x="n")
    >>> ax.lines[0].get_xdata().tolist()
    [20, 40, 80]
    """
    import matplotlib.pyplot as plt

    made = ax is None
    ax = single_axes(ax, figsize=(6, 4), layout="constrained")
    figure = ax.figure if made else None
    prefix = f"{label}: " if label else ""
    try:
        if not isinstance(distillation_or_list, Sequence):
            _bars(ax, distillation_or_list, prefix)
        else:
            _lines(ax, list(distillation_or_list), x, prefix)
    except (TypeError, ValueError):
        if figure is not None:  # refused input: no empty figure left open
            plt.close(figure)
        raise
    value = "Q²" if distillation_metric(distillation_or_list) == "q2" else "agreement / accuracy"
    ax.set_ylabel(value)
    ax.legend(loc="best")
    return ax


def distillation_metric(distillation: Any) -> str:
    first = distillation if not isinstance(distillation, Sequence) else distillation[0]
    return "q2" if first.fidelity_["metric"] == "q2" else "agreement"


def _bars(ax: Any, distillation: Any, prefix: str) -> None:
    figures = _figures(distillation)
    shown = [(name, value) for name, value in zip(_NAMES, figures, strict=True)
             if value is not None]
    positions = np.arange(len(shown))
    for i, (name, value) in enumerate(shown):
        ax.bar(positions[i], value, color=f"C{_NAMES.index(name)}", label=prefix + name)
    ax.set_xticks(positions, [name for name, _ in shown], rotation=15)
    summary = distillation.to_dict()
    ax.set_title(f"{summary['student']} from {summary['teacher']}")


def _lines(ax: Any, distillations: list[Any], x: str | None, prefix: str) -> None:
    if not distillations:
        raise ValueError("no distillation to plot")
    metrics = {d.fidelity_["metric"] for d in distillations if hasattr(d, "fidelity_")}
    if len(metrics) > 1:  # Q² and agreement on one line, labelled after the first
        raise ValueError(f"the distillations measure fidelity differently ({sorted(metrics)}: "
                         "regression and classification students); plot each kind apart")
    figures = np.array([[np.nan if v is None else v for v in _figures(d)] for d in distillations],
                       dtype=float)
    sizes = [d.student_size_ for d in distillations]
    if x is None:
        x = "size" if None not in sizes and len(set(sizes)) > 1 else "n"
    if x not in ("n", "size"):
        raise ValueError(f"x must be 'n' or 'size', got {x!r}")
    if x == "size" and None in sizes:
        raise ValueError("x='size' needs students with a size (trees, PRIM, CART)")
    position = np.array(sizes if x == "size" else
                        [d.to_dict()["n_generated"] for d in distillations])
    order = np.argsort(position, kind="stable")
    styles = (("o", "-", 7), ("s", "--", 5), ("^", ":", 4))  # equal series stay visible
    for j, name in enumerate(_NAMES[:3]):
        if np.isfinite(figures[:, j]).any():
            marker, line, size = styles[j]
            ax.plot(position[order], figures[order, j], marker=marker, linestyle=line,
                    markersize=size, color=f"C{j}", label=prefix + name)
    if np.isfinite(figures[:, 3]).any():
        ax.axhline(np.nanmean(figures[:, 3]), color="C3", linestyle="--",
                   label=prefix + _NAMES[3])
    ax.set_xlabel("student size" if x == "size" else "generated points (n)")
