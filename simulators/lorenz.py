"""Lorenz system teacher: does the trajectory settle to a fixed point or stay chaotic?

Equations (dimensionless; Lorenz 1963)::

    dx/dt = sigma (y - x)
    dy/dt = x (rho - z) - y
    dz/dt = x y - beta z

from ``(x, y, z)(0) = (1, 1, 1)``, integrated over ``[0, t_end]`` (default 100) by the batched
Dormand-Prince 5(4) integrator of :mod:`simulators._integrate` (default ``rtol=1e-8,
atol=1e-10``). The outputs are read on a grid of spacing ``dt`` (default 0.05) over the final
``window`` (default 10) time units.

Parameters (uniform ranges)
---------------------------
=====  ===========  ==========================================
sigma  [8, 16]      Prandtl number
rho    [2, 50]      Rayleigh number (relative to its critical value)
beta   [1.5, 3.5]   geometric factor
=====  ===========  ==========================================

Outputs
-------
===========  ==========================================================================
settled      1.0 when, over the whole final window, the state stays within a relative
             distance ``settle_tolerance`` (default 1e-3) of a fixed point: the origin, or
             ``C± = (±sqrt(beta (rho - 1)), ±sqrt(beta (rho - 1)), rho - 1)``; distances are
             divided by ``1 + |C+|``. Else 0.0
z_mean       mean of z over the final window
x_amplitude  (max x - min x) / 2 over the final window
===========  ==========================================================================

Fields (trajectories)
---------------------
``x``, ``y`` and ``z`` on the field grid: every ``field_dt`` (default 0.1, a whole multiple of
``dt``) over the final window, ``t_end`` included; 101 points by default. Chaotic trajectories
are reproducible only as statistics (see below), and so are their fields.

Oracle: ``C±`` lose stability in a (subcritical) Hopf bifurcation at
``rho_H = sigma (sigma + beta + 3) / (sigma - beta - 1)``, which lies in [18.2, 33.2] on this space
(``sigma > beta + 1`` everywhere), so a trajectory settles for ``rho < rho_H`` and cannot for
``rho > rho_H``. The ranges and the horizon are chosen so that ``settled`` matches the oracle
for ``rho < 0.85 rho_H`` and for ``rho > rho_H`` (checked on a 2,000-point design). Just below
``rho_H`` a chaotic attractor coexists with the stable fixed points and transient chaos grows
long, so trajectories from ``(1, 1, 1)`` may still be chaotic at ``t_end`` there. Chaotic
trajectories depend sensitively on round-off: for them ``z_mean`` and ``x_amplitude`` are
reproducible only as statistics, not digit for digit against another integrator.

References
----------
.. [1] E. N. Lorenz, "Deterministic nonperiodic flow", J. Atmos. Sci. 20, 130-141, 1963.
.. [2] C. Sparrow, "The Lorenz Equations: Bifurcations, Chaos, and Strange Attractors",
   Springer, 1982 (Hopf bifurcation of C±, coexistence of the attractors).

Examples
--------
>>> import simulators
>>> sim = simulators.lorenz.simulator(t_end=30.0)
>>> sim([[10.0, 10.0, 8 / 3]])["settled"].tolist()  # rho = 10 < rho_H = 24.74
[1.0]
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

__all__ = ["SPACE", "OUTPUTS", "FIELDS", "simulator", "simulate", "simulate_runs", "reference",
           "hopf_rho"]

SPACE = Space([Real("sigma", 8.0, 16.0), Real("rho", 2.0, 50.0), Real("beta", 1.5, 3.5)])
OUTPUTS = ("settled", "z_mean", "x_amplitude")
FIELDS = ("x", "y", "z")


def hopf_rho(sigma: np.ndarray, beta: np.ndarray) -> np.ndarray:
    """The Hopf boundary ``rho_H = sigma (sigma + beta + 3) / (sigma - beta - 1)``.

    Examples
    --------
    >>> round(float(hopf_rho(10.0, 8 / 3)), 4)
    24.7368
    """
    sigma, beta = np.asarray(sigma, dtype=float), np.asarray(beta, dtype=float)
    return sigma * (sigma + beta + 3.0) / (sigma - beta - 1.0)


def simulator(
    *,
    t_end: float = 100.0,
    window: float = 10.0,
    dt: float = 0.05,
    settle_tolerance: float = 1e-3,
    field_dt: float = 0.1,
    rtol: float = 1e-8,
    atol: float = 1e-10,
    max_steps: int = 200_000,
) -> Simulator:
    """The Lorenz teacher as a vectorized :class:`~surrogate.Simulator`.

    Parameters
    ----------
    t_end : float, default 100
        Final time.
    window : float, default 10
        Length of the final window the outputs are read on.
    dt : float, default 0.05
        Spacing of the output grid in the window.
    settle_tolerance : float, default 1e-3
        Relative distance to a fixed point below which the trajectory counts as settled.
    field_dt : float, default 0.1
        Spacing of the fields' grid over the window: a whole multiple of ``dt``.
    rtol, atol : float
        Integrator tolerances (as in ``solve_ivp``).
    max_steps : int
        Steps allowed per trajectory before the run counts as failed.

    Returns
    -------
    surrogate.Simulator

    Examples
    --------
    >>> simulator(t_end=50.0, window=5.0).outputs
    ('settled', 'z_mean', 'x_amplitude')
    """
    options: dict[str, Any] = dict(check_positive(
        t_end=t_end, window=window, dt=dt, settle_tolerance=settle_tolerance))
    if not dt <= window <= t_end:
        raise ValueError(f"need dt <= window <= t_end, got dt={dt!r}, window={window!r}, "
                         f"t_end={t_end!r}")
    options.update(check_settings(rtol, atol, max_steps))
    t_eval = _setup(pd.DataFrame(columns=SPACE.names), t_end, window, dt)[2]
    points = field_points(len(t_eval), dt, field_dt)
    grid = t_eval[points]
    return Simulator(functools.partial(simulate_runs, field_points=points, **options), SPACE,
                     OUTPUTS, fields={name: grid for name in FIELDS}, vectorized=True,
                     name=teacher_name("lorenz", simulator, field_dt=float(field_dt), **options))


def simulate(X: pd.DataFrame, *, t_end: float = 100.0, window: float = 10.0, dt: float = 0.05,
             settle_tolerance: float = 1e-3, rtol: float = 1e-8, atol: float = 1e-10,
             max_steps: int = 200_000) -> np.ndarray:
    """Integrate a whole design as one batch; return outputs of shape (n, 3), NaN rows failed.

    Examples
    --------
    >>> import pandas as pd
    >>> X = pd.DataFrame([[10.0, 5.0, 8 / 3]], columns=SPACE.names)
    >>> simulate(X, t_end=20.0, window=2.0).round(6).tolist()  # settles on z* = rho - 1
    [[1.0, 4.0, 0.0]]
    """
    y0, params, t_eval = _setup(X, t_end, window, dt)
    solution = dopri5(_rhs, y0, params, t_eval, rtol=rtol, atol=atol, max_steps=max_steps)
    return _outputs(solution, params, settle_tolerance)


def simulate_runs(X: pd.DataFrame, *, field_points: np.ndarray, t_end: float = 100.0,
                  window: float = 10.0, dt: float = 0.05, settle_tolerance: float = 1e-3,
                  rtol: float = 1e-8, atol: float = 1e-10,
                  max_steps: int = 200_000) -> dict[str, np.ndarray]:
    """The simulator's function: outputs (n,) and fields (n, len(field_points)) by name.

    ``field_points`` indexes the window's grid of spacing ``dt``; NaN rows for failed runs.

    Examples
    --------
    >>> import pandas as pd
    >>> X = pd.DataFrame([[10.0, 5.0, 8 / 3]], columns=SPACE.names)
    >>> runs = simulate_runs(X, field_points=np.array([0, 40]), t_end=20.0, window=2.0)
    >>> runs["z"].round(6).tolist()  # settled on z* = rho - 1
    [[4.0, 4.0]]
    """
    y0, params, t_eval = _setup(X, t_end, window, dt)
    solution = dopri5(_rhs, y0, params, t_eval, rtol=rtol, atol=atol, max_steps=max_steps)
    outputs = _outputs(solution, params, settle_tolerance)
    states = solution.y[:, field_points, :].copy()  # (n, k, 3)
    states[~solution.ok] = np.nan
    return {**dict(zip(OUTPUTS, outputs.T, strict=True)),
            **{name: states[:, :, j] for j, name in enumerate(FIELDS)}}


def reference(X: pd.DataFrame, *, t_end: float = 100.0, window: float = 10.0, dt: float = 0.05,
              settle_tolerance: float = 1e-3, rtol: float = 1e-8,
              atol: float = 1e-10) -> np.ndarray:
    """The same outputs from one ``scipy.integrate.solve_ivp`` call per point (slow; checks).

    Examples
    --------
    >>> import pandas as pd
    >>> X = pd.DataFrame([[10.0, 5.0, 8 / 3]], columns=SPACE.names)
    >>> reference(X, t_end=20.0, window=2.0).round(6).tolist()
    [[1.0, 4.0, 0.0]]
    """
    y0, params, t_eval = _setup(X, t_end, window, dt)
    solution = solve_ivp_each(_rhs, y0, params, t_eval, rtol=rtol, atol=atol)
    return _outputs(solution, params, settle_tolerance)


def _rhs(t: np.ndarray, y: np.ndarray, params: np.ndarray) -> np.ndarray:
    sigma, rho, beta = params.T
    x, y_, z = y.T
    derivative = np.empty_like(y)
    derivative[:, 0] = sigma * (y_ - x)
    derivative[:, 1] = x * (rho - z) - y_
    derivative[:, 2] = x * y_ - beta * z
    return derivative


def _setup(X: pd.DataFrame, t_end: float, window: float,
           dt: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    frame = pd.DataFrame(X)
    params = frame[["sigma", "rho", "beta"]].to_numpy(dtype=float)
    y0 = np.ones((len(frame), 3))
    n_points = grid_points("window", window, dt)
    return y0, params, np.linspace(t_end - window, t_end, n_points)


def _outputs(solution: BatchSolution, params: np.ndarray, settle_tolerance: float) -> np.ndarray:
    sigma, rho, beta = params.T
    arm = np.sqrt(np.maximum(beta * (rho - 1.0), 0.0))
    height = np.maximum(rho - 1.0, 0.0)
    fixed = np.stack([np.zeros_like(params),  # (n, 3 fixed points, 3)
                      np.column_stack([arm, arm, height]),
                      np.column_stack([-arm, -arm, height])], axis=1)
    states = solution.y  # (n, k, 3)
    distance = np.linalg.norm(states[:, :, None, :] - fixed[:, None, :, :], axis=-1).min(axis=2)
    relative = distance.max(axis=1) / (1.0 + np.linalg.norm(fixed[:, 1], axis=1))
    x, z = states[:, :, 0], states[:, :, 2]
    result = np.column_stack([
        (relative < settle_tolerance).astype(float),
        z.mean(axis=1),
        (x.max(axis=1) - x.min(axis=1)) / 2.0,
    ])
    result[~solution.ok] = np.nan
    return result
