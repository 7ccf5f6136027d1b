"""Plots: the last stage. Each function takes a result, draws on ``ax`` (or a new figure) and
returns what it drew. Algorithms never plot (STYLE 5); matplotlib is imported only when a plot is
made.
"""

from __future__ import annotations

import importlib
from typing import Any

# public plot name -> private module that defines it
_WHERE = {
    "parity": "_models",
    "parity_predictions": "_models",
    "tradeoff": "_discovery",
    "box": "_discovery",
    "box_limits": "_discovery",
    "sobol": "_sensitivity",
    "convergence": "_optimize",
    "fan": "_fields",
    "sobol_over_time": "_fields",
    "trajectories": "_fields",
    "learning_curve": "_sequential",
    "design_pairs": "_design",
    "fidelity": "_distill",
}

__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'surrogate.plot' has no attribute {name!r}")
    module = importlib.import_module(f"surrogate.plot.{_WHERE[name]}")
    return getattr(module, name)


def __dir__() -> list[str]:
    return __all__
