"""The Axes a plot draws on: the caller's, one added to the caller's Figure, or a new figure's."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["single_axes", "given_axes", "root_figure"]


def single_axes(ax: Any, **figure_options: Any) -> Any:
    """``ax`` when it is an Axes; a new Axes over a given Figure; else (None) the Axes of a new
    figure made with ``figure_options`` (``plt.subplots``'s). Anything else is refused by name."""
    import matplotlib.pyplot as plt
    from matplotlib.axes import Axes
    from matplotlib.figure import FigureBase

    if ax is None:
        return plt.subplots(**figure_options)[1]
    if isinstance(ax, Axes):
        return ax
    if isinstance(ax, FigureBase):
        return ax.add_subplot()
    raise TypeError(f"ax must be a matplotlib Axes (or a Figure to draw in), got "
                    f"{type(ax).__name__}")


def given_axes(ax: Any, count: int, wanted: str, name: str = "ax") -> np.ndarray:
    """The ``count`` Axes given as ``ax`` (one Axes, or a sequence or array of them), flat;
    ``wanted`` says what was expected. Anything else is refused, naming the option."""
    from matplotlib.axes import Axes

    given = np.atleast_1d(np.asarray(ax, dtype=object)).ravel()
    if len(given) != count or not all(isinstance(a, Axes) for a in given):
        kinds = sorted({type(a).__name__ for a in given})
        raise ValueError(f"{name} must be {wanted}, got {len(given)} object(s) of type "
                         f"{', '.join(kinds)}")
    return given


def root_figure(ax: Any) -> Any:
    """The Figure an Axes is drawn in (the root one, when it sits in a SubFigure)."""
    figure = ax.figure
    try:
        return figure.get_figure(root=True)
    except TypeError:  # matplotlib < 3.10: .figure is already the root
        return getattr(figure, "figure", figure)
