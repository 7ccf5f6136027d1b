"""Shallow-lake teacher: the stochastic pollution model of decision making under deep uncertainty.

A town releases pollution ``a_t`` into a lake that recycles phosphorus; above a critical level
the lake flips to an irreversible eutrophic state. Equation (Carpenter et al. 1999; the
"lake problem" of Hadka et al. 2015 and Quinn et al. 2017)::

    X_{t+1} = (1 - b) X_t + X_t^q / (1 + X_t^q) + a_t + e_t,    X_0 = 0,

for ``t = 0, ..., T - 2`` (``T = 100`` states ``X_0 .. X_99``, one per year), with a constant
release ``a_t = release`` (the lever) and natural inflows ``e_t`` lognormal with the given
``mean`` and ``stdev`` (of ``e_t`` itself). ``n_samples`` (default 100) Monte Carlo inflow series
are drawn once per simulator from ``seed`` as standard normals ``Z (n_samples, T - 1)``,
``e_t = exp(mu + s Z_t)`` with ``s^2 = ln(1 + stdev^2 / mean^2)`` and ``mu = ln(mean) - s^2 / 2``,
and reused for every design point (common random numbers: a point's outputs do not depend on
the rest of the design, and the response is smooth in the parameters).

Parameters (uniform ranges)
---------------------------
=======  ==============  ==========================================================
b        [0.1, 0.45]     phosphorus removal rate, 1/year
q        [2, 4.5]        steepness of the recycling term
mean     [0.01, 0.05]    mean natural inflow per year
stdev    [0.001, 0.005]  standard deviation of the natural inflow
delta    [0.93, 0.99]    discount factor per year
release  [0, 0.1]        the town's constant pollution release per year (the lever)
=======  ==============  ==========================================================

Outputs
-------
===========  =====================================================================================
max_P        max over years of the Monte Carlo mean pollution, ``max_t mean_i X_{i,t}``
utility      discounted economic benefit ``sum_{t=0}^{T-1} alpha a_t delta^t``, alpha = 0.4
             (equal to ``alpha a (1 - delta^T) / (1 - delta)`` for a constant release)
inertia      share of the ``n_samples x (T - 1)`` year-to-year transitions in which the lake's
             pollution changes by less than ``inertia_threshold`` (default 0.02),
             ``|X_{t+1} - X_t| < 0.02``: how often the lake state holds steady
reliability  share of the ``n_samples x T`` (series, year) pairs with ``X_t < P_crit``, where
             ``P_crit`` is the root of ``x^q / (1 + x^q) = b x`` in [0.01, 1.5]
===========  =====================================================================================

Fields (trajectories)
---------------------
``P``: the Monte Carlo mean pollution ``mean_i X_{i,t}`` in each year ``t = 0 .. T - 1`` (100
points; ``max_P`` is its maximum). For example ``time_above(P, 0.5) > 10`` is a lake that
stays polluted above 0.5 for more than ten years on average over the inflow series.

Inertia, defined explicitly: in the multi-year policy setting of Quinn et al. inertia is the share
of years in which the *policy* changes by less than 0.02; with one constant release that share is
identically 1, so this teacher measures the same steadiness on the *lake's* state instead.

References
----------
.. [1] S. R. Carpenter, D. Ludwig, W. A. Brock, "Management of eutrophication for lakes subject
   to potentially irreversible change", Ecological Applications 9(3), 751-771, 1999.
.. [2] D. Hadka, J. Herman, P. Reed, K. Keller, "An open source framework for many-objective
   robust decision making", Environmental Modelling & Software 74, 114-129, 2015.
.. [3] J. D. Quinn, P. M. Reed, K. Keller, "Direct policy search for robust multi-objective
   management of deeply uncertain socio-ecological tipping points", Environmental Modelling &
   Software 92, 125-141, 2017.

Examples
--------
>>> import simulators
>>> sim = simulators.lake.simulator(n_samples=10, seed=1)
>>> out = sim([[0.42, 2.0, 0.02, 0.0017, 0.98, 0.05]])
>>> round(float(out["utility"].iloc[0]), 6)  # 0.4 * 0.05 * (1 - 0.98**100) / 0.02
0.86738
"""

from __future__ import annotations

import functools
import numbers

import numpy as np
import pandas as pd

from simulators._integrate import check_count, check_positive, teacher_name
from surrogate._random import SeedLike, as_generator
from surrogate.space import Real, Space
from surrogate.teacher import Simulator

__all__ = ["SPACE", "OUTPUTS", "FIELDS", "ALPHA", "YEARS", "simulator", "simulate",
           "simulate_runs", "critical_pollution"]

SPACE = Space([
    Real("b", 0.1, 0.45),
    Real("q", 2.0, 4.5),
    Real("mean", 0.01, 0.05),
    Real("stdev", 0.001, 0.005),
    Real("delta", 0.93, 0.99),
    Real("release", 0.0, 0.1),
])
OUTPUTS = ("max_P", "utility", "inertia", "reliability")
FIELDS = ("P",)
ALPHA = 0.4  # utility per unit of released pollution
YEARS = 100  # T, states X_0 .. X_{T-1}


def simulator(*, n_samples: int = 100, seed: SeedLike = 0,
              inertia_threshold: float = 0.02) -> Simulator:
    """The shallow-lake teacher as a vectorized :class:`~surrogate.Simulator`.

    Parameters
    ----------
    n_samples : int, default 100
        Monte Carlo inflow series per design point.
    seed : int, numpy.random.Generator or None, default 0
        Draws the inflow series once, here: the simulator is then deterministic (a generator
        or None gives a fixed seed drawn from it).
    inertia_threshold : float, default 0.02
        Year-to-year change of the lake's pollution below which a year counts as steady.

    Returns
    -------
    surrogate.Simulator

    Examples
    --------
    >>> sim = simulator(n_samples=50, seed=7)
    >>> sim.outputs
    ('max_P', 'utility', 'inertia', 'reliability')
    """
    n_samples = check_count("n_samples", n_samples, 1)
    inertia_threshold = check_positive(inertia_threshold=inertia_threshold)["inertia_threshold"]
    if isinstance(seed, numbers.Integral) and not isinstance(seed, bool):
        as_generator(seed)  # rejects negative ints with the package's message
        seed = int(seed)
    else:  # a generator or None: fix the series now so every call sees the same ones
        seed = int(as_generator(seed).integers(2**63 - 1))
    fn = functools.partial(simulate_runs, n_samples=n_samples, seed=seed,
                           inertia_threshold=float(inertia_threshold))
    return Simulator(fn, SPACE, OUTPUTS, fields={"P": np.arange(YEARS, dtype=float)},
                     vectorized=True, name=teacher_name("lake", simulator, **fn.keywords))


def critical_pollution(b: np.ndarray, q: np.ndarray) -> np.ndarray:
    """``P_crit``: the root of ``x^q / (1 + x^q) = b x`` in [0.01, 1.5], by bisection.

    On the parameter space the left side minus the right is negative at 0.01 and positive at
    1.5 and crosses zero once in between, so 60 halvings give the root to machine precision.

    Examples
    --------
    >>> round(float(critical_pollution(0.42, 2.0)[0]), 6)  # (1 - sqrt(1 - 4 b^2)) / (2 b) for q = 2
    0.54454
    """
    b, q = np.broadcast_arrays(np.atleast_1d(np.asarray(b, dtype=float)),
                               np.atleast_1d(np.asarray(q, dtype=float)))
    low, high = np.full(b.shape, 0.01), np.full(b.shape, 1.5)
    for _ in range(60):
        middle = 0.5 * (low + high)
        power = middle**q
        above = power / (1.0 + power) - b * middle > 0
        high = np.where(above, middle, high)
        low = np.where(above, low, middle)
    return 0.5 * (low + high)


def simulate(X: pd.DataFrame, *, n_samples: int = 100, seed: int = 0,
             inertia_threshold: float = 0.02, chunk: int = 500) -> np.ndarray:
    """Run every design point on every inflow series; return outputs of shape (n, 4).

    Designs are processed ``chunk`` at a time, each as an array of (points, series).

    Examples
    --------
    >>> import pandas as pd
    >>> X = pd.DataFrame([[0.45, 4.5, 0.01, 0.001, 0.98, 0.0]], columns=SPACE.names)
    >>> float(simulate(X, n_samples=5)[0, 3])  # a clean lake stays below P_crit: reliable
    1.0
    """
    return _simulate(X, n_samples, seed, inertia_threshold, chunk)[0]


def simulate_runs(X: pd.DataFrame, *, n_samples: int = 100, seed: int = 0,
                  inertia_threshold: float = 0.02, chunk: int = 500) -> dict[str, np.ndarray]:
    """The simulator's function: outputs (n,) and the field ``P`` (n, YEARS) by name.

    Examples
    --------
    >>> import pandas as pd
    >>> X = pd.DataFrame([[0.45, 4.5, 0.01, 0.001, 0.98, 0.0]], columns=SPACE.names)
    >>> runs = simulate_runs(X, n_samples=5)
    >>> runs["P"].shape, bool(runs["P"].max() == runs["max_P"][0])
    ((1, 100), True)
    """
    outputs, pollution = _simulate(X, n_samples, seed, inertia_threshold, chunk)
    return {**dict(zip(OUTPUTS, outputs.T, strict=True)), "P": pollution}


def _simulate(X: pd.DataFrame, n_samples: int, seed: int, inertia_threshold: float,
              chunk: int) -> tuple[np.ndarray, np.ndarray]:
    """Outputs (n, 4) and the mean pollution per year (n, YEARS), ``chunk`` points at a time."""
    frame = pd.DataFrame(X)
    normals = as_generator(seed).standard_normal((n_samples, YEARS - 1))  # shared by all points
    columns = ["b", "q", "mean", "stdev", "delta", "release"]
    values = frame[columns].to_numpy(dtype=float)
    result = np.empty((len(frame), len(OUTPUTS)))
    pollution = np.empty((len(frame), YEARS))
    for lo in range(0, len(frame), chunk):
        result[lo : lo + chunk], pollution[lo : lo + chunk] = _simulate_chunk(
            values[lo : lo + chunk], normals, inertia_threshold)
    return result, pollution


def _simulate_chunk(values: np.ndarray, normals: np.ndarray,
                    inertia_threshold: float) -> tuple[np.ndarray, np.ndarray]:
    b, q, mean, stdev, delta, release = (column[:, None] for column in values.T)  # (n, 1) each
    spread2 = np.log1p((stdev / mean) ** 2)
    location = np.log(mean) - spread2 / 2.0
    spread = np.sqrt(spread2)
    p_crit = critical_pollution(b[:, 0], q[:, 0])[:, None]
    n, n_samples = values.shape[0], normals.shape[0]
    state = np.zeros((n, n_samples))  # X_0 = 0
    pollution = np.zeros((n, YEARS))  # mean over series per year; X_0 = 0
    below = (state < p_crit).sum(axis=1).astype(float)
    steady = np.zeros(n)
    for t in range(YEARS - 1):
        inflow = np.exp(location + spread * normals[:, t])  # e_t, (n, n_samples)
        power = state**q
        following = (1.0 - b) * state + power / (1.0 + power) + release + inflow
        steady += (np.abs(following - state) < inertia_threshold).sum(axis=1)
        state = following
        pollution[:, t + 1] = state.mean(axis=1)
        below += (state < p_crit).sum(axis=1)
    years = np.arange(YEARS)
    utility = (ALPHA * release * delta ** years[None, :]).sum(axis=1)
    return np.column_stack([
        pollution.max(axis=1),
        utility,
        steady / (n_samples * (YEARS - 1)),
        below / (n_samples * YEARS),
    ]), pollution
