"""Plot of Sobol' indices (the result of :func:`surrogate.sensitivity.sobol_indices`)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from surrogate.plot._axes import single_axes

__all__ = ["sobol"]

_Z95 = 1.959963984540054  # two-sided 95 % normal quantile


def sobol(indices: pd.DataFrame, *, ax: Any = None) -> Any:
    """Bar chart of first-order (S1) and total (ST) Sobol' indices with their intervals.

    Two bars per parameter; black error bars are the bootstrap confidence intervals
    (``S1_conf``, ``ST_conf``). When the indices come from a Gaussian-process surrogate
    (columns ``S1_gp_std``, ``ST_gp_std``) a second, wider grey bar shows +-1.96 posterior standard
    deviations: the surrogate's own uncertainty about each index.

    Parameters
    ----------
    indices : DataFrame
        As returned by :func:`~surrogate.sensitivity.sobol_indices` (index: parameter names;
        columns ``S1, S1_conf, ST, ST_conf``).
    ax : matplotlib Axes, optional
        Where to draw; a new figure is made when omitted.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> frame = pd.DataFrame({"S1": [0.6, 0.3], "S1_conf": [0.05, 0.04],
    ...                       "ST": [0.7, 0.35], "ST_conf": [0.04, 0.03]}, index=["a", "b"])
    >>> ax = sobol(frame)
    >>> [t.get_text() for t in ax.get_xticklabels()]
    ['a', 'b']
    """

    columns = getattr(indices, "columns", [])
    missing = [c for c in ("S1", "S1_conf", "ST", "ST_conf") if c not in columns]
    if not isinstance(indices, pd.DataFrame) or missing:
        raise ValueError("indices must be the DataFrame returned by sobol_indices, with columns "
                         f"S1, S1_conf, ST, ST_conf; missing {missing}")
    if isinstance(indices.index, pd.MultiIndex):
        raise ValueError("these are a field's indices, one row per grid point and parameter: "
                         "plot them with plot.sobol_over_time, or plot.sobol(indices.attrs"
                         "['aggregated']) for the whole field")
    ax = single_axes(ax, figsize=(min(max(4.0, 0.8 * len(indices) + 2), 16.0), 3.5),
                     layout="constrained")
    position = np.arange(len(indices))
    width = 0.38
    for shift, key, color in ((-width / 2, "S1", "tab:blue"), (width / 2, "ST", "tab:orange")):
        x = position + shift
        first = key == "S1"  # label the interval kinds once
        ax.bar(x, indices[key].to_numpy(), width, color=color, label=key)
        if f"{key}_gp_std" in indices.columns:
            ax.errorbar(x, indices[key].to_numpy(), yerr=_Z95 * indices[f"{key}_gp_std"].to_numpy(),
                        fmt="none", ecolor="0.6", elinewidth=6, alpha=0.7,
                        label="surrogate 95 %" if first else None)
        ax.errorbar(x, indices[key].to_numpy(), yerr=indices[f"{key}_conf"].to_numpy(),
                    fmt="none", ecolor="black", capsize=3, elinewidth=1,
                    label="bootstrap 95 %" if first else None)
    ax.set_xticks(position)
    ax.set_xticklabels([str(name) for name in indices.index],
                       rotation=90 if len(indices) > 12 else 0)  # many names: upright, apart
    ax.axhline(0.0, color="0.3", linewidth=0.8)
    ax.set_ylabel("Sobol' index")
    ax.set_xlabel(indices.index.name or "parameter")
    handles, labels = ax.get_legend_handles_labels()
    order = sorted(range(len(labels)), key=lambda i: labels[i] not in ("S1", "ST"))  # bars first
    ax.legend([handles[i] for i in order], [labels[i] for i in order], frameon=False,
              loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return ax
