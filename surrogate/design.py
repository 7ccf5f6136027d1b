"""Designs: the second stage (space -> **design** -> teacher ...).

:func:`sample` draws points in the unit cube with :mod:`scipy.stats.qmc` and maps them through
:meth:`surrogate.Space.from_unit`, so integer and categorical parameters get every level with equal
probability (see :mod:`surrogate.space`).
"""

from __future__ import annotations

import itertools
import math
import warnings
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy.stats import qmc

from surrogate._checks import check_positive_int, is_int
from surrogate._random import SeedLike, as_generator
from surrogate.space import Categorical, Integer, Real, Space, as_space

__all__ = ["sample", "METHODS"]

Method = Literal["lhs", "sobol", "halton", "random", "factorial"]
METHODS: tuple[str, ...] = ("lhs", "sobol", "halton", "random", "factorial")
_LHS_OPTIMIZATIONS = (None, "random-cd", "lloyd")
MAX_FACTORIAL_POINTS = 10_000_000  # a full grid past this is refused (memory: GBs of rows)
LLOYD_MAX_DIM = 5  # Lloyd's step beyond: 6 dimensions x 1,000 points 19 s, 8 x 200 104 s


def sample(
    space: Space,
    n: int,
    *,
    method: Method = "lhs",
    seed: SeedLike = None,
    **options: Any,
) -> pd.DataFrame:
    """Draw a design of ``n`` points from ``space``.

    Parameters
    ----------
    space : Space
        The parameter space.
    n : int
        Number of points (for ``"factorial"``: an upper bound on the grid size when ``levels``
        is not given).
    method : {"lhs", "sobol", "halton", "random", "factorial"}
        ``"lhs"``: Latin hypercube, one point per stratum in every dimension (option
        ``optimization="random-cd"|"lloyd"|None``; ``"lloyd"`` spreads the points but gives up
        the one point per stratum). ``"sobol"``: scrambled Sobol' sequence (warns
        when ``n`` is not a power of two, which breaks its balance). ``"halton"``: scrambled
        Halton. ``"random"``: independent uniform draws. ``"factorial"``: full grid (option
        ``levels``: int, one int per parameter (space order) or dict name -> int; real
        parameters get evenly spaced levels including both bounds, integer and categorical
        parameters all their levels unless fewer are asked; at most MAX_FACTORIAL_POINTS,
        10 million, points).
    seed : int, numpy.random.Generator or None
        Same seed, same design.

    Returns
    -------
    pandas.DataFrame
        One column per parameter, in space order.

    Examples
    --------
    >>> from surrogate.space import Real, Space
    >>> space = Space([Real("x", 0, 1), Real("y", 10, 20)])
    >>> design = sample(space, 8, method="lhs", seed=0)
    >>> design.shape, list(design.columns)
    ((8, 2), ['x', 'y'])
    """
    space = as_space(space)
    if method not in METHODS:
        raise ValueError(f"method must be one of {list(METHODS)}, got {method!r}")
    if method != "factorial":
        n = check_positive_int("n", n)
    if method == "factorial":
        if n is not None and (not is_int(n) or n < 0):  # 0 or None: the size from levels=
            raise ValueError(f"n must be an int >= 0 or None for a factorial design (0 or None "
                             f"with levels=), got {n!r}")
        as_generator(seed)  # unused (a grid has no randomness), but a bad seed is named
        unknown = sorted(set(options) - {"levels"})
        if unknown:
            raise TypeError(f"method 'factorial' takes no option(s) {unknown}; allowed: "
                            "['levels']")
        return _factorial(space, n, **options)
    allowed = {"lhs": {"optimization"}}.get(method, set())
    unknown = sorted(set(options) - allowed)
    if unknown:
        raise TypeError(f"method {method!r} takes no option(s) {unknown}; allowed: {sorted(allowed)}")
    rng = as_generator(seed)
    unit = _unit_points(space.dim, n, method, rng, options.get("optimization"))
    return space.from_unit(unit)


def _unit_points(
    dim: int, n: int, method: str, rng: np.random.Generator, optimization: str | None
) -> np.ndarray:
    if method == "random":
        return rng.random((n, dim))
    if method == "lhs":
        if optimization not in _LHS_OPTIMIZATIONS:
            raise ValueError(
                f"optimization must be one of {list(_LHS_OPTIMIZATIONS)}, got {optimization!r}"
            )
        if optimization is not None and dim < 2:
            optimization = None  # scipy's optimizers need at least 2 dimensions
        if optimization == "lloyd" and n < dim + 1:
            raise ValueError(f"optimization='lloyd' needs at least dim + 1 = {dim + 1} points "
                             f"(its Voronoi cells), got n={n}; use optimization='random-cd' or "
                             "None")
        if optimization == "lloyd" and dim > LLOYD_MAX_DIM:
            warnings.warn(f"optimization='lloyd' in {dim} dimensions: SciPy's Lloyd iterations "
                          f"take minutes past {LLOYD_MAX_DIM} (8 dimensions, 200 points: 104 s "
                          "here) and give up the Latin hypercube's strata; 'random-cd' is fast",
                          UserWarning, stacklevel=3)
        engine: qmc.QMCEngine = qmc.LatinHypercube(dim, optimization=optimization, rng=rng)
        return engine.random(n)
    if method == "sobol":
        if n & (n - 1):
            warnings.warn(
                f"Sobol' designs are balanced only when n is a power of two; n={n} is not "
                f"(nearest: {2 ** math.floor(math.log2(n))} or {2 ** math.ceil(math.log2(n))})",
                UserWarning,
                stacklevel=3,
            )
        engine = qmc.Sobol(dim, scramble=True, rng=rng)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # our own warning above replaces scipy's
            return engine.random(n)
    engine = qmc.Halton(dim, scramble=True, rng=rng)
    return engine.random(n)


def _factorial(space: Space, n: int | None, *, levels: Any = None) -> pd.DataFrame:
    per_parameter = _factorial_levels(space, n, levels)
    size = math.prod(per_parameter)
    if levels is not None and n and size > n:  # n is not read: say so, as runs cost
        warnings.warn(f"factorial design: levels={levels!r} makes a grid of {size} points, more "
                      f"than n={n}; with levels, n is not read (pass n=0 or None with levels, "
                      "or n alone for the largest grid of at most n points)", UserWarning,
                      stacklevel=3)
    grids = []
    for p, k in zip(space, per_parameter, strict=True):
        if isinstance(p, Real):
            unit = np.linspace(0.0, 1.0, k)
            grids.append(p.from_unit(unit))
        else:
            total = p.n_levels  # type: ignore[attr-defined]
            picks = np.unique(np.round(np.linspace(0, total - 1, k)).astype(int))
            grids.append(p.from_unit((picks + 0.5) / total))
    rows = list(itertools.product(*grids))
    return space.validate(pd.DataFrame(rows, columns=space.names))


def _factorial_levels(space: Space, n: int | None, levels: Any) -> list[int]:
    def full(p: Any) -> int:
        return p.n_levels if isinstance(p, (Integer, Categorical)) else 0

    chosen: list[Any]
    if levels is None:
        if n is None:
            raise ValueError("factorial designs need n or levels")
        n = check_positive_int("n", n)
        # the largest common number of levels L >= 2 with prod(min(L, full levels)) <= n
        # past the most levels of a discrete parameter, a space of no real parameter gains
        # nothing: stop there (n = 10**9 looped for half an hour on a 6-point grid); the
        # size grows with L, so L is bisected (counting up to n = 2e7 took 16 s)
        most = None if any(not full(p) for p in space) else max(full(p) for p in space)
        top = n if most is None else min(n, most)

        def fits(L: int) -> bool:
            return math.prod(min(L, full(p)) if full(p) else L for p in space) <= n

        best = None
        low, high = 2, top
        while low <= high:
            mid = (low + high) // 2
            if fits(mid):
                best, low = mid, mid + 1
            else:
                high = mid - 1
        if best is None:
            raise ValueError(
                f"n={n} is too small for a factorial design with 2 levels per parameter "
                f"(needs {2 ** space.dim})"
            )
        chosen = [min(best, full(p)) if full(p) else best for p in space]
    elif isinstance(levels, dict):
        unknown = sorted(set(levels) - set(space.names))
        if unknown:
            raise ValueError(f"levels names unknown parameter(s) {unknown}; parameters: {space.names}")
        chosen = [levels.get(p.name, full(p) or 2) for p in space]
    elif isinstance(levels, list | tuple | np.ndarray):  # one per parameter, in space order
        if len(levels) != space.dim:
            raise ValueError(f"levels has {len(levels)} values for the {space.dim} parameters "
                             f"{space.names}; give one per parameter, or a dict by name")
        chosen = list(levels)
    elif isinstance(levels, bool) or not isinstance(levels, int | np.integer):
        raise TypeError(f"levels must be an int, one int per parameter or a dict by parameter "
                        f"name, got {levels!r}")
    else:
        chosen = [min(levels, full(p)) if full(p) else levels for p in space]
    for p, k in zip(space, chosen, strict=True):
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 2:
            raise ValueError(f"levels for parameter {p.name!r} must be an int >= 2, got {k!r}")
    # an integer or categorical parameter has no more levels than its own (levels={"c": 5} of
    # 2 categories): the grid holds those, and its size is said and checked as it is
    chosen = [min(int(k), full(p)) if full(p) else int(k)
              for p, k in zip(space, chosen, strict=True)]
    size = math.prod(chosen)
    if size > MAX_FACTORIAL_POINTS:
        raise ValueError(f"a factorial design of levels {chosen} has {size:,} points, more "
                         f"than {MAX_FACTORIAL_POINTS:,}: ask for fewer levels (or a smaller n)")
    return chosen
