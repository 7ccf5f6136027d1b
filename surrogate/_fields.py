"""Field outputs: the grid checks that the teacher and the transfer set share.

A *field* is an output that is a whole trajectory on a fixed 1-D grid (e.g. infected people at
each day) rather than one number. A teacher declares its fields as ``{name: grid}``; every run
then gives one value per grid point. This module validates those declarations once, for both
stages that hold them (:mod:`surrogate.teacher` and :mod:`surrogate.data`), and defines how a
run's values are laid out in one flat vector: the scalar outputs first, then each field's
values in declaration order (what executors, journals and checkpoints carry).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from surrogate._checks import check_savable_text

__all__ = ["check_grid", "check_fields", "check_outputs", "field_slices", "field_frame", "Grids",
           "flat_points"]

#: ``{field name: grid}`` with each grid a read-only, strictly increasing float array.
Grids = dict[str, np.ndarray]


def check_grid(name: str, grid: Any) -> np.ndarray:
    """The grid of field ``name`` as a read-only float array, or one clear ``ValueError``.

    A grid is 1-D, non-empty, finite and strictly increasing (e.g. the times of a trajectory).

    Examples
    --------
    >>> check_grid("I", [0, 1, 2]).tolist()
    [0.0, 1.0, 2.0]
    >>> check_grid("I", [0, 2, 1])
    Traceback (most recent call last):
    ...
    ValueError: field 'I': the grid must be strictly increasing (1-D, finite), but it falls at position 2 (2.0 -> 1.0)
    """
    try:
        kind: str = np.asarray(grid).dtype.kind
    except (TypeError, ValueError):  # ragged: refused below
        kind = ""
    if kind in ("M", "m"):  # read as floats they were µs, ns or days since 1970 (the dtype's)
        raise ValueError(f"field {name!r}: the grid must be numbers, got dates or durations; "
                         "convert them, e.g. to days since the start: "
                         "(dates - dates[0]) / pd.Timedelta(days=1)")
    if kind == "b":
        raise ValueError(f"field {name!r}: the grid must be numbers (e.g. times), got booleans")
    try:
        values = np.array(grid, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"field {name!r}: the grid must be a 1-D sequence of numbers (e.g. "
                         f"times), got {type(grid).__name__}") from None
    if values.ndim != 1 or len(values) == 0:
        raise ValueError(f"field {name!r}: the grid must be a non-empty 1-D sequence of numbers, "
                         f"got shape {values.shape}")
    if not np.isfinite(values).all():
        raise ValueError(f"field {name!r}: the grid holds non-finite values")
    steps = np.diff(values)
    if (steps <= 0).any():
        k = int(np.flatnonzero(steps <= 0)[0])
        raise ValueError(f"field {name!r}: the grid must be strictly increasing (1-D, finite), "
                         f"but it falls at position {k + 1} ({values[k]} -> {values[k + 1]})")
    values.setflags(write=False)
    return values


def check_fields(fields: Mapping[str, Any] | None, outputs: Sequence[str] = ()) -> Grids:
    """Validate ``{name: grid}``; names must be non-empty strings distinct from ``outputs``.

    Examples
    --------
    >>> list(check_fields({"S": [0, 1], "I": [0, 1]}, outputs=["peak"]))
    ['S', 'I']
    """
    if fields is None:
        return {}
    if not isinstance(fields, Mapping):
        raise TypeError(f"fields must be a mapping {{name: grid}}, e.g. {{'I': times}}; got "
                        f"{type(fields).__name__}")
    grids: Grids = {}
    for name, grid in fields.items():
        if not isinstance(name, str) or not name:
            raise TypeError(f"field names must be non-empty str, got {name!r}")
        check_savable_text("field name", name)
        if name in outputs:
            raise ValueError(f"{name!r} is both a scalar output and a field; names must differ")
        grids[name] = check_grid(name, grid)
    return grids


def field_slices(n_outputs: int, grids: Mapping[str, np.ndarray]) -> dict[str, slice]:
    """Where each field's values lie in a run's flat value vector (scalar outputs first).

    Examples
    --------
    >>> field_slices(2, {"a": [0, 1, 2], "b": [0, 1]})
    {'a': slice(2, 5, None), 'b': slice(5, 7, None)}
    """
    slices, start = {}, n_outputs
    for name, grid in grids.items():
        slices[name] = slice(start, start + len(grid))
        start += len(grid)
    return slices


def field_frame(name: str, grid: np.ndarray, values: np.ndarray) -> pd.DataFrame:
    """Trajectories (n, T) as a DataFrame: one row per run, one column per grid point; the
    columns axis is named after the field.

    Examples
    --------
    >>> field_frame("I", np.array([0.0, 1.0]), np.array([[1.0, 2.0]]))
    I    0.0  1.0
    0    1.0  2.0
    """
    return pd.DataFrame(np.array(values, dtype=float),
                        columns=pd.Index(np.asarray(grid, dtype=float), name=name))


def check_outputs(outputs: Any, has_fields: bool = False) -> tuple[str, ...]:
    """Output names: non-empty strings, each once (none only beside fields); a single str is
    one name."""
    if isinstance(outputs, str):
        outputs = (outputs,)
    if isinstance(outputs, np.ndarray | pd.Index) and outputs.ndim == 1:  # e.g. df.columns
        outputs = tuple(outputs.tolist())
    if not isinstance(outputs, Sequence) or (not outputs and not has_fields):
        raise ValueError(f"outputs must be a non-empty sequence of names (or declare fields=), "
                         f"got {outputs!r}")
    for name in outputs:
        if not isinstance(name, str) or not name:
            raise TypeError(f"output names must be non-empty str, got {name!r}")
        check_savable_text("output name", name)
    dupes = sorted({o for o in outputs if list(outputs).count(o) > 1})
    if dupes:
        raise ValueError(f"duplicate output names: {dupes}")
    return tuple(outputs)


FLAT_SHARE = 1e-9  # a grid point whose runs spread less, relative to the widest, is flat
# ... or less than this share of the field's largest magnitude: a few units in the last place
# (16 to 32 ulps), what float64 cannot tell from rounding
ROUNDOFF = 16 * float(np.finfo(float).eps)


def flat_points(spread: np.ndarray, magnitude: float) -> np.ndarray:
    """Which grid points of a field are flat (T,), from the runs' spread at each (T,) and the
    field's largest magnitude: a spread below FLAT_SHARE of the widest (a surrogate's roundoff,
    1e-15, where every trajectory is 0: a fixed initial condition; SIR's 4e-10 after the
    epidemics, where Q² read -1.6e13) or below ROUNDOFF of the magnitude (the roundoff of
    values near 1e10); not FLAT_SHARE of the magnitude: under an offset of 1e10 that took
    spreads of 1 for flat, nor 1e-12 of it, which took the spread of ``1e10 + 1e-3 a``
    (relative 1e-13, some 500 ulps) for flat. Nothing there to explain: Sobol' indices and Q²
    are NaN."""
    widest = float(spread.max()) if spread.size else 0.0
    return spread <= max(FLAT_SHARE * widest, ROUNDOFF * magnitude)
