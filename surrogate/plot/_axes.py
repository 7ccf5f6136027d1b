"""The Axes a plot draws on: the caller's, one added to the caller's Figure, or a new figure's."""

from __future__ import annotations

from typing import Any

__all__ = ["single_axes"]


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
