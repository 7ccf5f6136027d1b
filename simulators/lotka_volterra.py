"""Lotka-Volterra predator-prey teacher: an ODE integrated for a whole design at once.

Equations (populations in individuals, time in years)::

    dx/dt = alpha x - beta x y        (prey)
    dy/dt = delta x y - gamma y       (predator)

with ``x(0) = prey0`` and ``y(0) = predator0``, integrated over ``[0, t_end]`` (default 50 years)
by the batched Dormand-Prince 5(4) integrator of :mod:`simulators._integrate` (the method of
``solve_ivp(method="RK45")``, same error control, default ``rtol=1e-8, atol=1e-10``) and read on
an output grid of spacing ``dt`` (default 0.1 year).

Parameters (uniform ranges)
---------------------------
============  ==============  =========================================
alpha         [0.5, 2.0]      prey growth rate, 1/year
beta          [0.02, 0.2]     predation rate, 1/(individual year)
gamma         [0.2, 1.0]      predator death rate, 1/year
delta         [0.005, 0.05]   predator growth per prey eaten, 1/(individual year)
prey0         [10, 100]       initial prey, individuals
predator0     [1, 20]         initial predators, individuals
============  ==============  =========================================

Outputs
-------
============== ================================================================================
prey_final     x(t_end), individuals
predator_final y(t_end), individuals
predator_max   max of y over the output grid, individuals
amplitude      (max x - min x) / 2 over the output grid: the prey oscillation amplitude
extinct        1.0 when either population falls below ``extinction_threshold`` (default one
               individual) somewhere on the output grid, else 0.0
============== ================================================================================

Fields (trajectories)
---------------------
``prey`` and ``predator`` (individuals) on the field grid: every ``field_dt`` years (default 0.5,
a whole multiple of ``dt``) from 0 to ``t_end``; 101 points by default. For example
``any(prey < 1)`` is a run whose prey population falls below one individual.

The orbits are closed (the system has the conserved quantity
``delta x - gamma ln x + beta y - alpha ln y``), so the amplitude does not decay; orbits far from
the equilibrium ``(gamma/delta, alpha/beta)`` pass close to zero, which is what ``extinct``
records. A failed integration gives a row of NaN (a failed run).

References
----------
.. [1] A. J. Lotka, "Elements of Physical Biology", Williams & Wilkins, 1925.
.. [2] V. Volterra, "Variazioni e fluttuazioni del numero d'individui in specie animali
   conviventi", Mem. R. Accad. Naz. dei Lincei 2, 31-113, 1926.

Examples
--------
>>> import simulators
>>> sim = simulators.load("lotka_volterra")
>>> point = {"alpha": 1.0, "beta": 0.1, "gamma": 0.4, "delta": 0.01,
...          "prey0": 40.0, "predator0": 10.0}
>>> sim([list(point.values())]).round(6).iloc[0].tolist()  # at the equilibrium nothing moves
[40.0, 10.0, 10.0, 0.0, 0.0]
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
    Real("alpha", 0.5, 2.0),
    Real("beta", 0.02, 0.2),
    Real("gamma", 0.2, 1.0),
    Real("delta", 0.005, 0.05),
    Real("prey0", 10.0, 100.0),
    Real("predator0", 1.0, 20.0),
])
OUTPUTS = ("prey_final", "predator_final", "predator_max", "amplitude", "extinct")
FIELDS = ("prey", "predator")


def simulator(
    *,
    t_end: float = 50.0,
    dt: float = 0.1,
    extinction_threshold: float = 1.0,
    field_dt: float = 0.5,
    rtol: float = 1e-8,
    atol: float = 1e-10,
    max_steps: int = 100_000,
) -> Simulator:
    """The Lotka-Volterra teacher as a vectorized :class:`~surrogate.Simulator`.

    Parameters
    ----------
    t_end : float, default 50
        Final time, years.
    dt : float, default 0.1
        Spacing of the output grid on which maxima, minima and extinction are read.
    extinction_threshold : float, default 1
        A population below this many individuals counts as extinct.
    field_dt : float, default 0.5
        Spacing of the fields' grid, years: a whole multiple of ``dt`` (``t_end`` is always on
        it).
    rtol, atol : float
        Integrator tolerances (as in ``solve_ivp``).
    max_steps : int
        Steps allowed per trajectory before the run counts as failed.

    Returns
    -------
    surrogate.Simulator
        Vectorized over designs; parameters and outputs as in the module docstring.

    Examples
    --------
    >>> sim = simulator(t_end=10.0, extinction_threshold=0.5)
    >>> sim.outputs
    ('prey_final', 'predator_final', 'predator_max', 'amplitude', 'extinct')
    """
    options = _check_options(t_end, dt, extinction_threshold, rtol, atol, max_steps)
    t_eval = _setup(pd.DataFrame(columns=SPACE.names), t_end, dt)[2]
    points = field_points(len(t_eval), dt, field_dt)
    grid = t_eval[points]
    return Simulator(functools.partial(simulate_runs, field_points=points, **options), SPACE,
                     OUTPUTS, fields={name: grid for name in FIELDS}, vectorized=True,
                     name=teacher_name("lotka_volterra", simulator, field_dt=float(field_dt),
                                       **options))


def simulate(X: pd.DataFrame, *, t_end: float = 50.0, dt: float = 0.1,
             extinction_threshold: float = 1.0, rtol: float = 1e-8, atol: float = 1e-10,
             max_steps: int = 100_000) -> np.ndarray:
    """Integrate a whole design as one batch; return outputs of shape (n, 5), NaN rows failed.

    Examples
    --------
    >>> import pandas as pd
    >>> X = pd.DataFrame([[1.0, 0.1, 0.4, 0.01, 30.0, 5.0]], columns=SPACE.names)
    >>> simulate(X).shape
    (1, 5)
    """
    y0, params, t_eval = _setup(X, t_end, dt)
    solution = dopri5(_rhs, y0, params, t_eval, rtol=rtol, atol=atol, max_steps=max_steps)
    return _outputs(solution, extinction_threshold)


def simulate_runs(X: pd.DataFrame, *, field_points: np.ndarray, t_end: float = 50.0,
                  dt: float = 0.1, extinction_threshold: float = 1.0, rtol: float = 1e-8,
                  atol: float = 1e-10, max_steps: int = 100_000) -> dict[str, np.ndarray]:
    """The simulator's function: outputs (n,) and fields (n, len(field_points)) by name.

    ``field_points`` indexes the output grid of spacing ``dt``; NaN rows for failed runs.

    Examples
    --------
    >>> import pandas as pd
    >>> X = pd.DataFrame([[1.0, 0.1, 0.4, 0.01, 40.0, 10.0]], columns=SPACE.names)
    >>> simulate_runs(X, field_points=np.array([0, 5]), t_end=1.0)["prey"].round(6).tolist()
    [[40.0, 40.0]]
    """
    y0, params, t_eval = _setup(X, t_end, dt)
    solution = dopri5(_rhs, y0, params, t_eval, rtol=rtol, atol=atol, max_steps=max_steps)
    outputs = _outputs(solution, extinction_threshold)
    states = solution.y[:, field_points, :]  # (n, k, 2); failed runs are NaN already
    return {**dict(zip(OUTPUTS, outputs.T, strict=True)),
            **{name: states[:, :, j] for j, name in enumerate(FIELDS)}}


def reference(X: pd.DataFrame, *, t_end: float = 50.0, dt: float = 0.1,
              extinction_threshold: float = 1.0, rtol: float = 1e-8,
              atol: float = 1e-10) -> np.ndarray:
    """The same outputs from one ``scipy.integrate.solve_ivp`` call per point (slow; checks).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> X = pd.DataFrame([[1.0, 0.1, 0.4, 0.01, 30.0, 5.0]], columns=SPACE.names)
    >>> bool(np.allclose(reference(X), simulate(X), rtol=1e-6))
    True
    """
    y0, params, t_eval = _setup(X, t_end, dt)
    solution = solve_ivp_each(_rhs, y0, params, t_eval, rtol=rtol, atol=atol)
    return _outputs(solution, extinction_threshold)


def _rhs(t: np.ndarray, y: np.ndarray, params: np.ndarray) -> np.ndarray:
    prey, predator = y[:, 0], y[:, 1]
    alpha, beta, gamma, delta = params.T
    meetings = prey * predator
    return np.stack([alpha * prey - beta * meetings, delta * meetings - gamma * predator], axis=1)


def _setup(X: pd.DataFrame, t_end: float, dt: float) -> tuple[np.ndarray, ...]:
    frame = pd.DataFrame(X)
    params = frame[["alpha", "beta", "gamma", "delta"]].to_numpy(dtype=float)
    y0 = frame[["prey0", "predator0"]].to_numpy(dtype=float)
    t_eval = np.linspace(0.0, t_end, grid_points("t_end", t_end, dt))
    return y0, params, t_eval


def _outputs(solution: BatchSolution, extinction_threshold: float) -> np.ndarray:
    prey, predator = solution.y[:, :, 0], solution.y[:, :, 1]  # (n, k) each
    lowest = np.minimum(prey.min(axis=1), predator.min(axis=1))
    return np.column_stack([
        prey[:, -1],
        predator[:, -1],
        predator.max(axis=1),
        (prey.max(axis=1) - prey.min(axis=1)) / 2.0,
        np.where(np.isnan(lowest), np.nan, (lowest < extinction_threshold).astype(float)),
    ])


def _check_options(t_end: float, dt: float, extinction_threshold: float, rtol: float,
                   atol: float, max_steps: int) -> dict[str, Any]:
    options: dict[str, Any] = dict(
        check_positive(t_end=t_end, dt=dt, extinction_threshold=extinction_threshold))
    if dt > t_end:
        raise ValueError(f"dt must be at most t_end={t_end}, got {dt!r}")
    options.update(check_settings(rtol, atol, max_steps))
    return options
