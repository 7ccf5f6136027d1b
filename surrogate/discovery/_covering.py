"""Sequential covering (several boxes) and the resampling check of a PRIM box.

Covering runs PRIM again on the points not yet in a box, as EMA Workbench's repeated
``find_box`` does; the resampling check reruns PRIM on random halves of the data and reports how
often each parameter is restricted in the box that best matches the original one.
"""

from __future__ import annotations

import numbers
import warnings
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone

from surrogate._checks import warn_if_misaligned
from surrogate._random import SeedLike, as_generator
from surrogate.discovery._box import Box
from surrogate.discovery._data import as_frame, check_labels, fit_domain
from surrogate.discovery._peel import find_box
from surrogate.discovery._prim import PRIM, boxes_from_steps, select_box


def covering(
    X: Any, y: Any, *, min_density: float, max_boxes: int = 3, **prim_params: Any
) -> list[Box]:
    """Find up to ``max_boxes`` boxes one after the other (sequential covering).

    Each round runs PRIM on the points not in an earlier box and keeps the box of its
    trajectory with the highest coverage among those with density >= ``min_density``. It stops
    early when no box reaches ``min_density`` or no case of interest is left.

    Parameters
    ----------
    X, y
        Experiments and labels, as for :meth:`PRIM.fit`.
    min_density : float
        Density a box must reach, in [0, 1].
    max_boxes : int, default 3
    **prim_params
        Options of :class:`PRIM` (``peel_alpha``, ``paste_alpha``, ``mass_min``, ``objective``).

    Returns
    -------
    list of Box
        Possibly empty. Coverage and mass refer to all points; density, and the quasi-p-values,
        to the points the box was found on. A later box's limits alone may also hold points of
        earlier boxes: in its statistics those points were removed.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> X = pd.DataFrame(rng.uniform(size=(3000, 3)), columns=["a", "b", "c"])
    >>> y = ((X.a < 0.5) & (X.b < 0.5)) | ((X.a > 0.8) & (X.c > 0.7))
    >>> [str(box) for box in covering(X, y, min_density=0.9)]
    ['a <= 0.511 and b <= 0.4972', 'a >= 0.7876 and c >= 0.7011']
    """
    settings = PRIM(**prim_params)._settings()
    if not isinstance(min_density, numbers.Real) or not 0 <= min_density <= 1:
        raise ValueError(f"min_density must be a number in [0, 1], got {min_density!r}")
    if not isinstance(max_boxes, numbers.Integral) or isinstance(max_boxes, bool) or max_boxes < 1:
        raise ValueError(f"max_boxes must be a positive int, got {max_boxes!r}")
    warn_if_misaligned(X, y)
    domain, frame = fit_domain(X)
    labels, _ = check_labels(y, len(frame))
    numeric, codes = domain.encode(frame, checked=True)
    remaining = np.ones(len(labels), dtype=bool)
    boxes: list[Box] = []
    while len(boxes) < max_boxes:
        rows = np.flatnonzero(remaining)
        if labels[rows].sum() <= 0:
            break
        data = (numeric[rows], codes[rows], labels[rows])
        steps = find_box(domain, *data, settings, n_total=len(labels))
        trajectory = boxes_from_steps(domain, steps, data, len(labels), labels.sum())
        try:
            box = select_box(trajectory, None, min_density)
        except ValueError:
            break
        boxes.append(box)
        remaining[rows[box._contains_encoded(numeric[rows], codes[rows])]] = False
    return boxes


def resample(
    prim: PRIM,
    X: Any,
    y: Any,
    *,
    i: int | None = None,
    iterations: int = 10,
    fraction: float = 0.5,
    seed: SeedLike = None,
) -> pd.DataFrame:
    """How reproducible a PRIM box is: rerun PRIM on random subsets and count restrictions.

    For each of ``iterations`` random subsets (``fraction`` of the points, without
    replacement), PRIM runs with ``prim``'s settings; in its trajectory the box whose coverage
    is closest to the chosen box's, and the box whose density is closest, are looked up, and
    their restricted parameters are counted -- the check EMA Workbench's ``PrimBox.resample``
    makes.

    Parameters
    ----------
    prim : PRIM or REDS
        A PRIM or REDS fitted on ``(X, y)``.
    X, y
        The data ``prim`` was fitted on (for a REDS, ``y`` as it was given: its cases, the
        continuous outcome of its ``threshold``, or trajectories; its subsets are refitted
        with the space it was fitted with).
    i : int, optional
        Which box of ``prim``'s trajectory (default: ``prim.box()``'s).
    iterations : int, default 10
    fraction : float, default 0.5
    seed : int, Generator or None

    Returns
    -------
    DataFrame
        Index: all parameters; columns ``reproduce_coverage`` and ``reproduce_density``: the
        share of subsets (0 to 1) whose matching box restricts the parameter. Sorted, most
        reproducible first.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> X = pd.DataFrame(rng.uniform(size=(2000, 3)), columns=["a", "b", "c"])
    >>> y = (X.a < 0.4) & (X.b > 0.5)
    >>> prim = PRIM().fit(X, y)
    >>> resample(prim, X, y, iterations=4, seed=0).loc[["a", "b"], "reproduce_coverage"].tolist()
    [1.0, 1.0]
    """
    if not hasattr(prim, "boxes_") or not hasattr(prim, "box"):
        raise TypeError(f"prim must be a fitted PRIM or REDS, got {type(prim).__name__}")
    if isinstance(iterations, bool) or not isinstance(iterations, numbers.Integral) \
            or iterations < 1:
        raise ValueError(f"iterations must be a positive int, got {iterations!r}")
    if not isinstance(fraction, numbers.Real) or not 0 < fraction < 1:
        raise ValueError(f"fraction must be a number in (0, 1), got {fraction!r}")
    target = prim.box(i)
    fitted = getattr(prim, "feature_names_in_", None)
    fitted = None if fitted is None else [str(name) for name in fitted]
    frame = as_frame(X, names=None if fitted is None else tuple(fitted))
    if not isinstance(X, pd.DataFrame):  # an array: categories as the fitted data had them
        for name in target._domain.categorical_names:
            if name in frame.columns:
                frame[name] = frame[name].astype(object)
    if fitted is not None and fitted != list(frame.columns):
        raise ValueError(f"X has the columns {list(frame.columns)}, but the {type(prim).__name__} "
                         f"was fitted on {fitted}: resample re-fits it on subsets of the data "
                         "it was fitted on")
    warn_if_misaligned(X, y)
    refit = _refit(prim, frame, y)
    rng = as_generator(seed)
    size = int(len(frame) * fraction)
    counts = {"reproduce_coverage": pd.Series(0.0, index=frame.columns),
              "reproduce_density": pd.Series(0.0, index=frame.columns)}
    found = 0
    for _ in range(iterations):
        rows = np.sort(rng.choice(len(frame), size=size, replace=False))
        boxes = refit(rows)
        if not boxes:
            continue  # no case of interest drawn: nothing is restricted
        found += 1
        by_coverage = boxes[int(np.argmin([abs(b.coverage - target.coverage) for b in boxes]))]
        by_density = boxes[int(np.argmin([abs(b.density - target.density) for b in boxes]))]
        counts["reproduce_coverage"][list(by_coverage.restricted)] += 1 / iterations
        counts["reproduce_density"][list(by_density.restricted)] += 1 / iterations
    if not found:  # every share 0, which would read "nothing reproduces"
        given = ("the continuous outcome of its threshold" if getattr(prim, "threshold", None)
                 is not None else "its cases of interest")
        raise ValueError(f"no subset of {size} rows gave a case of interest to refit on: y must "
                         f"be what the {type(prim).__name__} was fitted on ({given})")
    result = pd.DataFrame(counts)
    result.index.name = "parameter"
    return result.sort_values(["reproduce_coverage", "reproduce_density"], ascending=False)


def _refit(prim: Any, frame: pd.DataFrame, y: Any) -> Any:
    """``rows -> boxes`` of ``prim`` refitted on those rows (empty: no case among them). A
    REDS reads ``y`` as it was fitted on it -- cases, the continuous outcome of its
    ``threshold``, or trajectories -- and samples the space it was given."""
    from surrogate.discovery._reds import REDS

    if not isinstance(prim, REDS):
        labels, _ = check_labels(y, len(frame))
        return lambda rows: [] if labels[rows].sum() <= 0 else \
            clone(prim).fit(frame.iloc[rows], labels[rows]).boxes_
    if len(y) != len(frame):
        raise ValueError(f"y has {len(y)} values but X has {len(frame)} rows")
    space = getattr(prim, "_space", None)

    def boxes(rows: np.ndarray) -> list[Box]:
        part = y.iloc[rows] if isinstance(y, pd.DataFrame | pd.Series) else np.asarray(y)[rows]
        with warnings.catch_warnings():  # the subsets' own fidelity warnings say nothing here
            warnings.simplefilter("ignore", UserWarning)
            try:
                return list(clone(prim).fit(frame.iloc[rows], part, space=space).boxes_)
            except ValueError as exc:
                if "no case of interest" in str(exc):
                    return []
                raise

    return boxes
