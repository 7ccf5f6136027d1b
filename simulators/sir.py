"""SIR epidemic teacher: an ODE integrated for a whole design at once.

Equations (people, time in days; Kermack & McKendrick 1927)::

    dS/dt = -beta S I / N
    dI/dt =  beta S I / N - gamma I
    dR/dt =  gamma I

with ``N = population``, ``I(0) = initial_infected``, ``S(0) = N - I(0)``, ``R(0) = 0``,
integrated over ``[0, t_end]`` (default 365 days) by the batched Dormand-Prince 5(4)
integrator of :mod:`simulators._integrate` (default ``rtol=1e-8, atol=1e-10``) and read on an
output grid of spacing ``dt`` (default 0.25 day).

Parameters (uniform ranges; population log-uniform)
---------------------------------------------------
================  ================  ==================================================
beta              [0.1, 1.0]        transmission rate, 1/day
gamma             [0.05, 0.5]       recovery rate, 1/day (mean infectious period 1/gamma)
initial_infected  [1, 100]          people infected at day 0
population        [1e3, 1e6]        N, people (log scale)
================  ================  ==================================================

Outputs
-------
=============  ======================================================================
peak_infected  largest number of people infected at once: the vertex value of the parabola
               through the largest grid value of I and its two neighbours
peak_time      day of the peak: that parabola's vertex (0 when I only falls)
final_size     share of the population infected by ``t_end``: 1 - S(t_end) / N
=============  ======================================================================

Fields (trajectories, as shares of the population)
--------------------------------------------------
``S``, ``I`` and ``R`` (``S(t) / N`` ...) on the field grid: every ``field_dt`` days (default 2,
a whole multiple of ``dt``) from day 0, and ``t_end``; 184 points by default. They are clipped to
[0, 1] (the integration error leaves values of about -1e-13 near zero). For example
``max(I) > 0.2`` is an epidemic whose peak infects more than a fifth of the population at once.

Analytic checks: with ``R0 = beta / gamma`` and ``s0 = S(0) / N``, the peak is
``I_max = S(0) + I(0) - (N / R0) (1 + ln(R0 s0))`` when ``R0 s0 > 1`` (else ``I(0)`` at day 0),
and a finished epidemic's final size ``z`` solves ``1 - z = s0 exp(-R0 z)``.
Slow epidemics (R0 near 1, small initial_infected) may not finish by ``t_end``: then
``final_size`` and ``peak_time`` describe the first ``t_end`` days only.

References
----------
.. [1] W. O. Kermack, A. G. McKendrick, "A contribution to the mathematical theory of
   epidemics", Proc. R. Soc. A 115, 700-721, 1927.

Examples
--------
>>> import simulators
>>> sim = simulators.load("sir")
>>> out = sim([[0.5, 0.1, 10.0, 1e4]])
>>> round(float(out["final_size"].iloc[0]), 6)  # solves 1 - z = 0.999 exp(-5 z)
0.99303
>>> runs = sim.run([[0.5, 0.1, 10.0, 1e4]], progress=False)
>>> runs.fields, len(runs.field("I").columns)
(['S', 'I', 'R'], 184)
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
import pandas as pd

from simulators._integrate import (
    BatchSolution,
    check_positive,
    check_settings,
    dopri5,
    field_points,
    grid_points,
    solve_ivp_each,
    teacher_name,
)
from surrogate.space import Real, Space
from surrogate.teacher import Simulator

__all__ = ["SPACE", "OUTPUTS", "FIELDS", "simulator", "simulate", "simulate_runs", "reference"]

SPACE = Space([
    Real("beta", 0.1, 1.0),
    Real("gamma", 0.05, 0.5),
    Real("initial_infected", 1.0, 100.0),
    Real("population", 1e3, 1e6, log=True),
])
OUTPUTS = ("peak_infected", "peak_time", "final_size")
FIELDS = ("S", "I", "R")


def simulator(
    *,
    t_end: float = 365.0,
    dt: float = 0.25,
    field_dt: float = 2.0,
    rtol: float = 1e-8,
    atol: float = 1e-10,
    max_steps: int = 100_000,
) -> Simulator:
    """The SIR teacher as a vectorized :class:`~surrogate.Simulator`.

    Parameters
    ----------
    t_end : float, default 365
        Final time, days.
    dt : float, default 0.25
        Spacing of the output grid, days.
    field_dt : float, default 2
        Spacing of the fields' grid, days: a whole multiple of ``dt`` (``t_end`` is always on
        it).
    rtol, atol : float
        Integrator tolerances (as in ``solve_ivp``).
    max_steps : int
        Steps allowed per trajectory before the run counts as failed.

    Returns
    -------
    surrogate.Simulator

    Examples
    --------
    >>> simulator(t_end=100.0).space.names
    ['beta', 'gamma', 'initial_infected', 'population']
    """
    options: dict[str, Any] = dict(check_positive(t_end=t_end, dt=dt))
    if dt > t_end:
        raise ValueError(f"dt must be at most t_end={t_end}, got {dt!r}")
    options.update(check_settings(rtol, atol, max_steps))
    t_eval = _setup(pd.DataFrame(columns=SPACE.names), t_end, dt)[2]
    points = field_points(len(t_eval), dt, field_dt)
    grid = t_eval[points]
    return Simulator(functools.partial(simulate_runs, field_points=points, **options), SPACE,
                     OUTPUTS, fields={name: grid for name in FIELDS}, vectorized=True,
                     name=teacher_name("sir", simulator, field_dt=float(field_dt), **options))


def simulate(X: pd.DataFrame, *, t_end: float = 365.0, dt: float = 0.25, rtol: float = 1e-8,
             atol: float = 1e-10, max_steps: int = 100_000) -> np.ndarray:
    """Integrate a whole design as one batch; return outputs of shape (n, 3), NaN rows failed.

    Examples
    --------
    >>> import pandas as pd
    >>> X = pd.DataFrame([[0.1, 0.5, 20.0, 1e4]], columns=SPACE.names)  # R0 = 0.2: no outbreak
    >>> simulate(X)[0, 1]
    np.float64(0.0)
    """
    y0, params, t_eval = _setup(X, t_end, dt)
    solution = dopri5(_rhs, y0, params, t_eval, rtol=rtol, atol=atol, max_steps=max_steps)
    return _outputs(solution, params)


def simulate_runs(X: pd.DataFrame, *, field_points: np.ndarray, t_end: float = 365.0,
                  dt: float = 0.25, rtol: float = 1e-8, atol: float = 1e-10,
                  max_steps: int = 100_000) -> dict[str, np.ndarray]:
    """The simulator's function: outputs (n,) and fields (n, len(field_points)) by name.

    ``field_points`` indexes the output grid of spacing ``dt``; the fields are shares of the
    population, NaN rows for failed runs.

    Examples
    --------
    >>> import pandas as pd
    >>> X = pd.DataFrame([[0.5, 0.1, 10.0, 1e4]], columns=SPACE.names)
    >>> runs = simulate_runs(X, field_points=np.array([0, 4]), t_end=1.0)
    >>> runs["I"].round(5).tolist(), sorted(runs)
    ([[0.001, 0.00149]], ['I', 'R', 'S', 'final_size', 'peak_infected', 'peak_time'])
    """
    y0, params, t_eval = _setup(X, t_end, dt)
    solution = dopri5(_rhs, y0, params, t_eval, rtol=rtol, atol=atol, max_steps=max_steps)
    outputs = _outputs(solution, params)
    shares = solution.y[:, field_points, :] / params[:, 2, None, None]  # (n, k, 3)
    # shares lie in [0, 1]; the integrator's error leaves values of -1e-13 near 0. Exact zeros
    # remain (no one infected yet or any more): a log transform of the field needs an offset,
    # log(I + c), not y_transform="log"
    np.clip(shares, 0.0, 1.0, out=shares)
    shares[~solution.ok] = np.nan
    return {**dict(zip(OUTPUTS, outputs.T, strict=True)),
            **{name: shares[:, :, j] for j, name in enumerate(FIELDS)}}


def reference(X: pd.DataFrame, *, t_end: float = 365.0, dt: float = 0.25, rtol: float = 1e-8,
              atol: float = 1e-10) -> np.ndarray:
    """The same outputs from one ``scipy.integrate.solve_ivp`` call per point (slow; checks).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> X = pd.DataFrame([[0.5, 0.1, 10.0, 1e4]], columns=SPACE.names)
    >>> bool(np.allclose(reference(X), simulate(X), rtol=1e-6))
    True
    """
    y0, params, t_eval = _setup(X, t_end, dt)
    return _outputs(solve_ivp_each(_rhs, y0, params, t_eval, rtol=rtol, atol=atol), params)


def _rhs(t: np.ndarray, y: np.ndarray, params: np.ndarray) -> np.ndarray:
    susceptible, infected = y[:, 0], y[:, 1]
    beta, gamma, population = params.T
    infections = beta * susceptible * infected / population
    recoveries = gamma * infected
    return np.stack([-infections, infections - recoveries, recoveries], axis=1)


def _setup(X: pd.DataFrame, t_end: float, dt: float) -> tuple[np.ndarray, ...]:
    frame = pd.DataFrame(X)
    params = frame[["beta", "gamma", "population"]].to_numpy(dtype=float)
    infected = frame["initial_infected"].to_numpy(dtype=float)
    population = params[:, 2]
    y0 = np.column_stack([population - infected, infected, np.zeros_like(infected)])
    t_eval = np.linspace(0.0, t_end, grid_points("t_end", t_end, dt))
    return y0, params, t_eval


def _outputs(solution: BatchSolution, params: np.ndarray) -> np.ndarray:
    infected = solution.y[:, :, 1]  # (n, k)
    t = solution.t
    peak = np.argmax(np.nan_to_num(infected, nan=-np.inf), axis=1)
    rows = np.arange(infected.shape[0])
    peak_time = t[peak].copy()
    # vertex of the parabola through the peak and its neighbours (interior peaks only)
    inner = (peak > 0) & (peak < t.size - 1)
    left, mid, right = (infected[rows[inner], peak[inner] + shift] for shift in (-1, 0, 1))
    curvature = left - 2.0 * mid + right
    with np.errstate(divide="ignore", invalid="ignore"):
        offset = np.where(curvature < 0, 0.5 * (left - right) / curvature, 0.0)
        rise = np.where(curvature < 0, (right - left) ** 2 / (8.0 * curvature), 0.0)
    peak_time[inner] += np.clip(offset, -1.0, 1.0) * (t[1] - t[0])
    peak_infected = infected[rows, peak]
    peak_infected[inner] -= rise  # the parabola's vertex value, >= the grid maximum
    final_size = 1.0 - solution.y[:, -1, 0] / params[:, 2]
    result = np.column_stack([peak_infected, peak_time, final_size])
    result[~solution.ok] = np.nan
    return result
